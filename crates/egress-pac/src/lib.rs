//! Proxy auto-configuration: a PAC file evaluated in Boa, a JavaScript
//! engine written in Rust (so the Windows build needs no C toolchain for
//! it, and nothing outside the process runs the script), with every
//! standard PAC function and Microsoft's IPv6 extensions.
//!
//! Names, addresses and time come from the caller ([`PacHost`]): the
//! library does no I/O. Each evaluation has budgets: a loop may run a
//! million iterations, calls may nest 400 deep, and an evaluation stops at
//! its deadline when it next calls a PAC function; a PAC that loops
//! forever ends with an error, never a hang. Boa has no heap limit: a PAC
//! that builds a string of gigabytes is not stopped (see
//! `docs/proxy-discovery.md`).

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::fmt;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use boa_engine::{Context, JsNativeError, JsResult, JsString, JsValue, NativeFunction, Source};

mod result;

pub use result::{PacEntry, parse_result};

/// What a PAC file may ask of the machine it runs on.
pub trait PacHost {
    /// The addresses of a name (or the address itself), in the resolver's
    /// order; none when it does not resolve.
    fn resolve(&self, host: &str) -> Vec<IpAddr>;
    /// The machine's addresses, most relevant first.
    fn my_addresses(&self) -> Vec<IpAddr>;
}

/// Why a PAC file cannot give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacError {
    #[error("{name}:{line}:{column}: not JavaScript: {message}")]
    Syntax {
        name: String,
        line: u32,
        column: u32,
        message: String,
    },
    #[error("{name}: threw as it loaded: {message}")]
    Loading { name: String, message: String },
    #[error("{name}: defines no FindProxyForURL function")]
    NoFunction { name: String },
    #[error("{name}: FindProxyForURL threw: {message}")]
    Threw { name: String, message: String },
    #[error("{name}: FindProxyForURL ran past its budget ({message})")]
    Budget { name: String, message: String },
    #[error("{name}: FindProxyForURL returned {found}, not a string")]
    NotAString { name: String, found: String },
}

/// The budgets of one evaluation.
const LOOP_ITERATIONS: u64 = 1_000_000;
const RECURSION: usize = 400;
/// The wall-clock budget of one evaluation, checked at each PAC function
/// call (DNS lookups take time).
const DEADLINE: Duration = Duration::from_secs(5);

/// The host and deadline of the evaluation running on this thread, for
/// the native PAC functions.
struct Running {
    host: Rc<dyn PacHost>,
    deadline: Instant,
    alerts: Vec<String>,
}

thread_local! {
    static RUNNING: RefCell<Option<Running>> = const { RefCell::new(None) };
}

/// A compiled PAC file with the host it asks. Not `Send`: compile one per
/// thread.
pub struct Pac {
    name: String,
    context: Context,
    function: JsValue,
    ex: bool,
    host: Rc<dyn PacHost>,
}

impl fmt::Debug for Pac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pac").field("name", &self.name).finish()
    }
}

impl Pac {
    /// Compiles `text`; `name` (a path or URL) names it in errors. The
    /// file's top level runs here, with `host` to answer it.
    pub fn compile(name: &str, text: &str, host: Rc<dyn PacHost>) -> Result<Pac, PacError> {
        let mut context = Context::default();
        context
            .runtime_limits_mut()
            .set_loop_iteration_limit(LOOP_ITERATIONS);
        context.runtime_limits_mut().set_recursion_limit(RECURSION);
        natives(&mut context);
        context
            .eval(Source::from_bytes(include_str!("library.js")))
            .expect("the PAC library is valid JavaScript");
        let evaluated = with_host(&host, || context.eval(Source::from_bytes(text))).0;
        if let Err(e) = evaluated {
            let message = e.to_string();
            // Boa's parser gives no position for a file that ends inside
            // a construct: its end is where it is wrong, as pactester says.
            let position = syntax_position(&message).or_else(|| {
                message.starts_with("SyntaxError: abrupt end").then(|| {
                    let line = text.matches('\n').count() + 1;
                    let column = text.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
                    (line as u32, column as u32)
                })
            });
            return Err(match position {
                Some((line, column)) if message.starts_with("SyntaxError") => PacError::Syntax {
                    name: name.to_owned(),
                    line,
                    column,
                    message: message
                        .split(" at line ")
                        .next()
                        .unwrap_or(&message)
                        .trim_start_matches("SyntaxError: ")
                        .trim_end_matches(" (native)")
                        .replace(
                            "abrupt end",
                            "the file ends inside a construct (a missing `}` or `)`?)",
                        ),
                },
                _ => PacError::Loading {
                    name: name.to_owned(),
                    message: first_line(&message),
                },
            });
        }
        let global = context.global_object();
        let lookup = |f: &str, context: &mut Context| {
            global
                .get(JsString::from(f), context)
                .ok()
                .filter(JsValue::is_callable)
        };
        let (function, ex) = match lookup("FindProxyForURLEx", &mut context) {
            Some(f) => (f, true),
            None => match lookup("FindProxyForURL", &mut context) {
                Some(f) => (f, false),
                None => {
                    return Err(PacError::NoFunction {
                        name: name.to_owned(),
                    });
                }
            },
        };
        Ok(Pac {
            name: name.to_owned(),
            context,
            function,
            ex,
            host,
        })
    }

    /// Whether the file defines Microsoft's `FindProxyForURLEx`, which is
    /// then called instead of `FindProxyForURL`.
    pub fn is_ex(&self) -> bool {
        self.ex
    }

    /// `FindProxyForURL(url, host)`, verbatim, and the `alert` messages the
    /// evaluation wrote.
    pub fn find_proxy(&mut self, url: &str, host: &str) -> Result<(String, Vec<String>), PacError> {
        let args = [
            JsValue::from(JsString::from(url)),
            JsValue::from(JsString::from(host)),
        ];
        let (function, context) = (&self.function, &mut self.context);
        let (outcome, alerts) = with_host(&self.host, || {
            function
                .as_callable()
                .expect("checked callable at compile")
                .call(&JsValue::undefined(), &args, context)
        });
        let name = self.name.clone();
        match outcome {
            Ok(v) => match v.as_string() {
                Some(s) => Ok((s.to_std_string_escaped(), alerts)),
                None => Err(PacError::NotAString {
                    name,
                    found: v.display().to_string(),
                }),
            },
            Err(e) => {
                let message = first_line(&e.to_string());
                if message.starts_with("RuntimeLimitError") || message.contains(DEADLINE_MESSAGE) {
                    Err(PacError::Budget { name, message })
                } else {
                    Err(PacError::Threw { name, message })
                }
            }
        }
    }
}

/// Runs `f` with `host` answering the native functions on this thread,
/// and returns what it returned and the alerts written meanwhile.
fn with_host<T>(host: &Rc<dyn PacHost>, f: impl FnOnce() -> T) -> (T, Vec<String>) {
    RUNNING.with(|r| {
        *r.borrow_mut() = Some(Running {
            host: Rc::clone(host),
            deadline: Instant::now() + DEADLINE,
            alerts: Vec::new(),
        });
    });
    let value = f();
    let alerts = RUNNING.with(|r| r.borrow_mut().take().map(|r| r.alerts).unwrap_or_default());
    (value, alerts)
}

const DEADLINE_MESSAGE: &str = "the evaluation ran past its deadline";

/// The running host, or an error past the deadline.
fn host() -> JsResult<Rc<dyn PacHost>> {
    RUNNING.with(|r| match &*r.borrow() {
        Some(running) if Instant::now() > running.deadline => {
            Err(JsNativeError::range().with_message(DEADLINE_MESSAGE).into())
        }
        Some(running) => Ok(Rc::clone(&running.host)),
        None => Err(JsNativeError::error()
            .with_message("no host: PAC functions run only inside an evaluation")
            .into()),
    })
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

/// `... at line 4, col 9 ...` in Boa's syntax error messages.
fn syntax_position(message: &str) -> Option<(u32, u32)> {
    let rest = message.split(" at line ").nth(1)?;
    let (line, rest) = rest.split_once(", col ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

fn text_arg(args: &[JsValue], i: usize, context: &mut Context) -> JsResult<String> {
    Ok(args
        .get(i)
        .cloned()
        .unwrap_or_default()
        .to_string(context)?
        .to_std_string_escaped())
}

fn string(text: &str) -> JsValue {
    JsValue::from(JsString::from(text))
}

/// `dnsResolve(host)`: the first IPv4 address, or null.
fn dns_resolve(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let name = text_arg(args, 0, context)?;
    Ok(host()?
        .resolve(&name)
        .into_iter()
        .find(IpAddr::is_ipv4)
        .map_or(JsValue::null(), |a| string(&a.to_string())))
}

/// `dnsResolveEx(host)`: every address, `;`-separated, or "".
fn dns_resolve_ex(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let name = text_arg(args, 0, context)?;
    let all: Vec<String> = host()?
        .resolve(&name)
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(string(&all.join(";")))
}

/// `myIpAddress()`: the first IPv4 address of the machine, else loopback.
fn my_ip_address(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    Ok(string(
        &host()?
            .my_addresses()
            .into_iter()
            .find(IpAddr::is_ipv4)
            .map_or_else(|| "127.0.0.1".to_owned(), |a| a.to_string()),
    ))
}

/// `myIpAddressEx()`: every address of the machine, `;`-separated.
fn my_ip_address_ex(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let all: Vec<String> = host()?
        .my_addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(string(&all.join(";")))
}

/// `shExpMatch(str, shexp)`: egress-pattern's shell expressions.
fn sh_exp_match(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (text, pattern) = (text_arg(args, 0, context)?, text_arg(args, 1, context)?);
    Ok(JsValue::from(egress_pattern::sh_exp_match(&text, &pattern)))
}

/// `isInNetEx(ipAddress, ipPrefix)`: whether an IPv4 or IPv6 address is in
/// a `address/length` prefix.
fn is_in_net_ex(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (address, prefix) = (text_arg(args, 0, context)?, text_arg(args, 1, context)?);
    let inside = || -> Option<bool> {
        let address: IpAddr = address.trim().parse().ok()?;
        let (network, length) = prefix.trim().split_once('/')?;
        let network: IpAddr = network.parse().ok()?;
        let length: u32 = length.parse().ok()?;
        let bits = |ip: IpAddr| -> (u128, u32) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        let ((a, width), (n, other)) = (bits(address), bits(network));
        if width != other || length > width {
            return Some(false);
        }
        let shift = width - length;
        Some(shift >= 128 || (a >> shift) == (n >> shift))
    };
    Ok(JsValue::from(inside().unwrap_or(false)))
}

/// `sortIpAddressList(list)`: `;`-separated addresses, IPv6 first, each
/// kind ascending; false when an entry is not an address.
fn sort_ip_address_list(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let list = text_arg(args, 0, context)?;
    let mut parsed = Vec::new();
    for entry in list.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.parse::<IpAddr>() {
            Ok(ip) => parsed.push(ip),
            Err(_) => return Ok(JsValue::from(false)),
        }
    }
    parsed.sort_by_key(|ip| (ip.is_ipv4(), *ip));
    let sorted: Vec<String> = parsed.iter().map(ToString::to_string).collect();
    Ok(string(&sorted.join(";")))
}

/// `alert(message)`: kept with the evaluation's result.
fn alert(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let message = text_arg(args, 0, context)?;
    RUNNING.with(|r| {
        if let Some(running) = r.borrow_mut().as_mut() {
            running.alerts.push(message);
        }
    });
    Ok(JsValue::undefined())
}

fn natives(context: &mut Context) {
    let functions: [(
        &str,
        usize,
        boa_engine::native_function::NativeFunctionPointer,
    ); 8] = [
        ("dnsResolve", 1, dns_resolve),
        ("dnsResolveEx", 1, dns_resolve_ex),
        ("myIpAddress", 0, my_ip_address),
        ("myIpAddressEx", 0, my_ip_address_ex),
        ("shExpMatch", 2, sh_exp_match),
        ("isInNetEx", 2, is_in_net_ex),
        ("sortIpAddressList", 1, sort_ip_address_list),
        ("alert", 1, alert),
    ];
    for (name, length, f) in functions {
        context
            .register_global_builtin_callable(
                JsString::from(name),
                length,
                NativeFunction::from_fn_ptr(f),
            )
            .expect("a fresh context takes its globals");
    }
}
