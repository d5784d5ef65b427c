//! Inline SVG charts: bars (counts by key, histograms) and a line (pages
//! per second over time). Every bar carries `data-key` and `data-value`,
//! so a test (or a person with the inspector) reads the figures back.

use std::fmt::Write as _;

use super::html::escape;

const WIDTH: f64 = 720.0;
const BAR_HEIGHT: f64 = 180.0;
const LINE_HEIGHT: f64 = 200.0;
/// Points drawn at most on the line; more are averaged together.
const MAX_POINTS: usize = 720;

/// A vertical bar chart of `bars` (label, value), labels under the bars.
pub fn bars(id: &str, title: &str, bars: &[(String, u64)]) -> String {
    let mut out = String::new();
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let n = bars.len().max(1) as f64;
    let left = 40.0;
    let slot = (WIDTH - left) / n;
    let bar_w = (slot * 0.8).max(1.0);
    let top = 14.0;
    let plot_h = BAR_HEIGHT - top - 34.0;
    let _ = write!(
        out,
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {WIDTH} {BAR_HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{BAR_HEIGHT}\" data-bars=\"{}\"><title>{}</title>",
        bars.len(),
        escape(title)
    );
    let _ = write!(
        out,
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{WIDTH}\" y2=\"{y}\" class=\"axis\"/>\
         <text x=\"{x}\" y=\"{t}\" class=\"tick\" text-anchor=\"end\">{max}</text>",
        y = top + plot_h,
        x = left - 4.0,
        t = top + 4.0,
        max = max as u64
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let h = (*value as f64 / max * plot_h).max(if *value > 0 { 1.0 } else { 0.0 });
        let x = left + i as f64 * slot + (slot - bar_w) / 2.0;
        let y = top + plot_h - h;
        let key = escape(label);
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" \
             data-key=\"{key}\" data-value=\"{value}\"><title>{key}: {value}</title></rect>\
             <text x=\"{cx:.1}\" y=\"{ly:.1}\" class=\"label\" text-anchor=\"middle\">{key}</text>",
            cx = x + bar_w / 2.0,
            ly = top + plot_h + 14.0,
        );
        if *value > 0 && bars.len() <= 24 {
            let _ = write!(
                out,
                "<text x=\"{cx:.1}\" y=\"{vy:.1}\" class=\"value\" text-anchor=\"middle\">{value}</text>",
                cx = x + bar_w / 2.0,
                vy = (y - 2.0).max(10.0),
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A line of `points` (seconds from the start, pages per second).
pub fn line(id: &str, title: &str, points: &[(f64, f64)]) -> String {
    let points = thin(points);
    let left = 48.0;
    let top = 10.0;
    let plot_w = WIDTH - left - 10.0;
    let plot_h = LINE_HEIGHT - top - 30.0;
    let max_x = points.last().map_or(0.0, |p| p.0).max(1.0);
    let max_y = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0);
    let mut path = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        let px = left + x / max_x * plot_w;
        let py = top + plot_h - y / max_y * plot_h;
        let _ = write!(path, "{}{px:.1},{py:.1}", if i == 0 { "M" } else { " L" });
    }
    // One slot: a dot, since a path of one point draws nothing.
    let dot = match points.as_slice() {
        [(x, y)] => format!(
            "<circle class=\"dot\" r=\"3\" cx=\"{:.1}\" cy=\"{:.1}\"/>",
            left + x / max_x * plot_w,
            top + plot_h - y / max_y * plot_h
        ),
        _ => String::new(),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {WIDTH} {LINE_HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{LINE_HEIGHT}\" data-points=\"{n}\" data-max=\"{max_y:.2}\">\
         <title>{title}</title>\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" class=\"axis\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" class=\"axis\"/>\
         <text x=\"{tx}\" y=\"{ty}\" class=\"tick\" text-anchor=\"end\">{max_y:.1}/s</text>\
         <text x=\"{tx}\" y=\"{b}\" class=\"tick\" text-anchor=\"end\">0</text>\
         <text x=\"{r}\" y=\"{lx}\" class=\"tick\" text-anchor=\"end\">{max_x:.0} s</text>\
         <text x=\"{left}\" y=\"{lx}\" class=\"tick\">0 s</text>\
         <path class=\"rate\" d=\"{path}\"/>{dot}</svg>",
        n = points.len(),
        title = escape(title),
        b = top + plot_h,
        r = left + plot_w,
        tx = left - 4.0,
        ty = top + 8.0,
        lx = top + plot_h + 16.0,
    );
    out
}

/// At most [`MAX_POINTS`] points: neighbours averaged, so the line keeps
/// its shape (and the file its size) over a long crawl.
fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let per = points.len().div_ceil(MAX_POINTS);
    points
        .chunks(per)
        .map(|c| {
            let n = c.len() as f64;
            (c[0].0, c.iter().map(|p| p.1).sum::<f64>() / n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_figures_escaped() {
        let svg = bars("chart-x", "x", &[("200".into(), 5), ("<b>\"".into(), 0)]);
        assert!(svg.contains("data-key=\"200\" data-value=\"5\""), "{svg}");
        assert!(
            svg.contains("data-key=\"&lt;b&gt;&quot;\" data-value=\"0\""),
            "{svg}"
        );
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("data-bars=\"2\""));
    }

    #[test]
    fn line_is_thinned_and_empty_is_fine() {
        let many: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, 2.0)).collect();
        let svg = line("chart-rate", "r", &many);
        let n: usize = svg
            .split("data-points=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(usize::MAX);
        assert!(n <= MAX_POINTS, "{n}");
        assert!(line("chart-rate", "r", &[]).contains("data-points=\"0\""));
        assert!(bars("b", "b", &[]).contains("data-bars=\"0\""));
    }
}
