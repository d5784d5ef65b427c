//! How a command ended, as a type. Every command returns an [`Outcome`];
//! only `main` turns it into an exit code.

/// Ordered from best to worst, so that a run of several parts ends with
/// the worst of them ([`Outcome::worst`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Everything asked for was done.
    Done,
    /// A named job was already running (its lock held by another
    /// process); nothing was done.
    Busy,
    /// Stopped by a signal before the end; what was done is saved.
    Interrupted,
    /// Ran to the end, but some URLs, resources or exchanges failed.
    Failed,
    /// Bad input or settings: nothing was done.
    BadInput,
}

impl Outcome {
    /// The worse of two outcomes (a failed part outweighs an interrupted one).
    pub fn worst(self, other: Self) -> Self {
        self.max(other)
    }

    /// The exit code: 0, 1, 2, 75 (a job already running: `EX_TEMPFAIL`
    /// of sysexits.h, "try again later"), and for a stop by signal 130 (SIGINT) or
    /// 143 (SIGTERM, `terminated` true).
    pub fn exit_code(self, terminated: bool) -> u8 {
        match self {
            Self::Done => 0,
            Self::Failed => 1,
            Self::BadInput => 2,
            Self::Busy => 75,
            Self::Interrupted if terminated => 143,
            Self::Interrupted => 130,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_part_decides_and_signals_keep_their_codes() {
        use Outcome::*;
        assert_eq!(Done.worst(Busy), Busy);
        assert_eq!(Busy.worst(Interrupted), Interrupted);
        assert_eq!(Done.worst(Interrupted), Interrupted);
        assert_eq!(Interrupted.worst(Failed), Failed);
        assert_eq!(Failed.worst(BadInput), BadInput);
        assert_eq!(Done.worst(Done), Done);
        let codes: Vec<u8> = [Done, Failed, BadInput, Busy, Interrupted]
            .iter()
            .map(|o| o.exit_code(false))
            .collect();
        assert_eq!(codes, [0, 1, 2, 75, 130]);
        assert_eq!(Interrupted.exit_code(true), 143);
        assert_eq!(Failed.exit_code(true), 1);
    }
}
