//! One render of a generated plan, for profilers: `render_profile N TARGET`
//! (`REPEAT=K` renders it K times in the one process).
fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let target_name = args.next().unwrap_or_else(|| "plain".to_owned());
    let targets = [
        egress_render::Target::Squid,
        egress_render::Target::Pac,
        egress_render::Target::PanEdl,
        egress_render::Target::AzureFirewall,
        egress_render::Target::AwsNetworkFirewall,
        egress_render::Target::Plain,
    ];
    let target = targets.into_iter().find(|t| t.name() == target_name);
    let plan = egress_bench::generated_plan(n);
    // `none`: build the plan only, for subtracting from a profile.
    let Some(target) = target else {
        assert_eq!(
            target_name, "none",
            "a target name: squid, pac, pan-edl, azure-firewall, aws-network-firewall, plain, none"
        );
        std::hint::black_box(plan);
        return;
    };
    let options = egress_render::Options {
        header: vec![],
        squid_style: egress_render::SquidStyle::Exact,
        pac_allow: "DIRECT".into(),
        pac_default: "DIRECT".into(),
        edl_type: egress_render::EdlType::Domain,
        sources: vec![],
    };
    // `REPEAT=K`: render K times in this process (the warm case).
    let repeat: usize = std::env::var("REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    for _ in 0..repeat {
        let faults = minor_faults();
        let start = std::time::Instant::now();
        let r = egress_render::render(target, &plan, &options);
        let elapsed = start.elapsed();
        eprintln!(
            "{n} {target_name}: {elapsed:?}, {} bytes, {} page faults",
            r.text.len(),
            minor_faults().saturating_sub(faults)
        );
    }
}

/// This process's minor page faults so far (Linux; 0 elsewhere).
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Field 10, counted after the command name in parentheses.
            let rest = &s[s.rfind(')')? + 2..];
            rest.split(' ').nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}
