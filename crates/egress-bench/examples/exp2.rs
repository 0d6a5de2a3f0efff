fn main() {
    for n in [10_000usize, 100_000] {
        let plan = egress_bench::generated_plan(n);
        let options = egress_render::Options {
            header: vec![],
            squid_style: egress_render::SquidStyle::Exact,
            pac_allow: "DIRECT".into(),
            pac_default: "DIRECT".into(),
            edl_type: egress_render::EdlType::Domain,
            sources: vec![],
        };
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let r = egress_render::render(egress_render::Target::Plain, &plan, &options);
            eprintln!("{n}: total {:?} {}", t.elapsed(), r.text.len());
        }
    }
}
