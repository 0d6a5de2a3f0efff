//! `egress render TARGET`: the plan as an allowlist, with its losses.

use anyhow::bail;
use egress_catalog::plan;
use egress_render::{AwsRules, EdlType, Options, PlaceholderPolicy, SquidStyle, Target};

use crate::Exit;
use crate::cli::{
    AwsRulesArg, EdlTypeArg, Format, PlaceholdersArg, RenderArgs, SquidStyleArg, StrictKind,
};
use crate::context;
use crate::output;

pub fn run(args: &RenderArgs) -> anyhow::Result<Exit> {
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let request = context::request(&loaded, &args.select, args.cloud);
    let plan = plan::resolve(&loaded.catalog, &request);

    let target = match args.target.as_str() {
        "json" => return plain_format(&plan, &loaded, Format::Json, args),
        "csv" => return plain_format(&plan, &loaded, Format::Csv, args),
        "markdown" => return plain_format(&plan, &loaded, Format::Markdown, args),
        name => Target::named(name).expect("clap accepts only the registry's names"),
    };
    let mut header = vec![format!("egress render {}", target.name())];
    header.extend(crate::plan::header(&plan, &loaded));
    if args.no_header && target != Target::Plain {
        bail!(
            "--no-header applies to `plain` only; {} keeps its header, which lists what the list loses",
            target.name()
        );
    }
    let options = Options {
        header,
        no_header: args.no_header,
        squid_style: match args.squid_style {
            SquidStyleArg::Exact => SquidStyle::Exact,
            SquidStyleArg::Loose => SquidStyle::Loose,
        },
        pac_allow: args
            .pac_proxy
            .iter()
            .map(|p| pac_route(p, "--pac-proxy"))
            .collect::<anyhow::Result<Vec<_>>>()?
            .join("; "),
        pac_default: match args.pac_default.as_str() {
            "blackhole" => "PROXY 127.0.0.1:9".to_owned(),
            other => pac_route(other, "--pac-default")?,
        },
        edl_type: match args.edl_type {
            EdlTypeArg::Domain => EdlType::Domain,
            EdlTypeArg::Url => EdlType::Url,
            EdlTypeArg::Ip => EdlType::Ip,
        },
        aws_rules: match args.aws_rules {
            AwsRulesArg::DomainList => AwsRules::DomainList,
            AwsRulesArg::FiveTuple => AwsRules::FiveTuple,
        },
        intranet: args.intranet,
        placeholders: match args.placeholders {
            Some(PlaceholdersArg::Omit) => PlaceholderPolicy::Omit,
            Some(PlaceholdersArg::Widen) => PlaceholderPolicy::Widen,
            None => loaded
                .profile
                .as_ref()
                .and_then(|p| p.placeholders_policy)
                .unwrap_or_default(),
        },
        sources: context::server_sources(&loaded),
    };
    let rendered = egress_render::render(target, &plan, &options);
    for loss in &rendered.losses {
        eprintln!("loss: {loss}");
    }
    if let Some(kinds) = &args.strict {
        let refused: Vec<&egress_render::Loss> = rendered
            .losses
            .iter()
            .filter(|l| {
                kinds
                    .iter()
                    .any(|k| *k == StrictKind::All || k.name() == l.kind.strict_kind())
            })
            .collect();
        if !refused.is_empty() {
            let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            eprintln!(
                "error: --strict={}: {} loss(es) of precision for {}; nothing was written",
                names.join(","),
                refused.len(),
                target.name()
            );
            return Ok(Exit::Found);
        }
    }
    for x in &plan.external {
        eprintln!(
            "note: external list not included: {}: {} <{}>",
            x.feature, x.title, x.url
        );
    }
    if rendered.rows == 0 && !rendered.losses.is_empty() {
        eprintln!(
            "warning: the list is empty: the plan's rows for it are all left out (see the losses above)"
        );
    } else if rendered.rows == 0 {
        eprintln!(
            "warning: the list is empty: no {} row of the plan is in force{}",
            if args.intranet {
                "intranet"
            } else {
                "internet"
            },
            if args.intranet {
                ""
            } else {
                " (intranet rows, between site systems, need --intranet)"
            }
        );
    }
    output::emit(&rendered.text, args.output.as_deref())?;
    Ok(Exit::Success)
}

/// The plan's own formats: no losses, by definition.
fn plain_format(
    plan: &egress_catalog::Plan,
    loaded: &context::Loaded,
    format: Format,
    args: &RenderArgs,
) -> anyhow::Result<Exit> {
    let text = crate::plan::render(plan, loaded, format)?;
    output::emit(&text, args.output.as_deref())?;
    Ok(Exit::Success)
}

/// `DIRECT`, `PROXY host:port`, or `host:port` (a proxy).
fn pac_route(text: &str, option: &str) -> anyhow::Result<String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("direct") {
        return Ok("DIRECT".to_owned());
    }
    let hostport = t.strip_prefix("PROXY ").unwrap_or(t);
    match hostport.rsplit_once(':') {
        Some((host, port))
            if !host.is_empty()
                && !host.contains(' ')
                && port.parse::<u16>().is_ok_and(|p| p > 0) =>
        {
            Ok(format!("PROXY {hostport}"))
        }
        _ => bail!("{option} `{text}`: expected DIRECT, HOST:PORT or PROXY HOST:PORT"),
    }
}
