//! One render of a generated plan, for profilers: `render_profile N TARGET`.
fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let plan = egress_bench::generated_plan(n);
    let options = egress_render::Options {
        header: vec![],
        squid_style: egress_render::SquidStyle::Exact,
        pac_allow: "DIRECT".into(),
        pac_default: "DIRECT".into(),
        edl_type: egress_render::EdlType::Domain,
        sources: vec![],
    };
    let start = std::time::Instant::now();
    let r = egress_render::render(egress_render::Target::Plain, &plan, &options);
    eprintln!("{n}: {:?}, {} bytes", start.elapsed(), r.text.len());
}
