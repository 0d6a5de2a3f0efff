//! `egress pac eval`: what a PAC file answers for URLs, as `pactester`
//! prints it.

use std::rc::Rc;

use anyhow::Context as _;

use egress_pac::Pac;

use crate::Exit;
use crate::cli::{PacCommand, PacEvalArgs};
use crate::net::{Net, NetHost};

pub fn run(command: &PacCommand) -> anyhow::Result<Exit> {
    match command {
        PacCommand::Eval(args) => eval(args),
    }
}

fn eval(args: &PacEvalArgs) -> anyhow::Result<Exit> {
    let mut urls = args.urls.clone();
    if let Some(file) = &args.urls_file {
        let text = match file.as_os_str() == "-" {
            true => {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                    .context("cannot read the URLs from stdin")?;
                egress_text::decode(&bytes).map_err(|e| anyhow::anyhow!("<stdin>:{e}"))?
            }
            false => egress_text::read(file)?,
        };
        urls.extend(
            text.text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    let mut hosts = Vec::new();
    for u in &urls {
        let parsed = url::Url::parse(u).map_err(|e| anyhow::anyhow!("`{u}` is not a URL: {e}"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("`{u}` has no host"))?
            .trim_matches(['[', ']'])
            .to_owned();
        hosts.push(host);
    }
    let net = Rc::new(Net::new(&args.net)?);
    let (name, text) = net.load_pac(&args.pac)?;
    let host = Rc::new(NetHost::new(Rc::clone(&net), args.client_ip));
    let mut pac = Pac::compile(&name, &text, host)?;
    let mut out = String::new();
    for (url, host) in urls.iter().zip(&hosts) {
        let (answer, alerts) = pac.find_proxy(url, host)?;
        for a in alerts {
            eprintln!("alert: {a}");
        }
        out.push_str(&format!("{url}\t{answer}\n"));
    }
    crate::output::emit(&out, None)?;
    Ok(Exit::Success)
}
