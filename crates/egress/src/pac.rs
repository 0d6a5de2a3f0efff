//! `egress pac eval`: what a PAC file answers for URLs, as `pactester`
//! prints it.

use std::rc::Rc;

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
    let mut hosts = Vec::new();
    for u in &args.urls {
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
    for (url, host) in args.urls.iter().zip(&hosts) {
        let (answer, alerts) = pac.find_proxy(url, host)?;
        for a in alerts {
            eprintln!("alert: {a}");
        }
        out.push_str(&format!("{url}\t{answer}\n"));
    }
    crate::output::emit(&out, None)?;
    Ok(Exit::Success)
}
