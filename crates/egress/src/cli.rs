//! The command line: clap types only.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "egress",
    version,
    about = "Internet endpoints for Microsoft Configuration Manager: catalog, plans and allowlists",
    long_about = "egress turns Microsoft's 'Internet access requirements' page for Configuration \
Manager into software: a machine-readable catalog of every endpoint, resolved per site into \
plans and allowlists.\n\nExit status: 0 success, 1 the check found a problem, 2 usage, input or \
runtime error.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve the catalog for a site: every host it must reach, and why.
    Plan(PlanArgs),
    /// Check what this machine can reach of the plan: DNS, TCP, proxy, TLS
    /// and HTTP per endpoint, rolled up per feature. Exit status 1 when a
    /// feature is critical.
    Check(CheckArgs),
    /// Check the plan again and again, and serve the results: Prometheus
    /// metrics (/metrics), the check's JSON with history (/api/status) and
    /// a health answer (/healthz). docs/serve.md.
    Serve(ServeArgs),
    /// A forward proxy that lets each site system reach what its plan
    /// allows: report mode logs what it would deny, enforce mode denies
    /// it (docs/proxy.md).
    Proxy(ProxyArgs),
    /// Hold what a site already has against the plan: its proxy's logs
    /// (docs/audit.md).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Render the plan as an allowlist for a firewall or proxy, exactly where
    /// the target can express it, with every loss of precision reported.
    Render(RenderArgs),
    /// Which catalog endpoints match a host, `host:port` or URL, and whether a
    /// site's plan allows it. Exit status 0 when every input matched, 1 when
    /// one did not.
    Explain(ExplainArgs),
    /// Browse and validate catalogs.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Site profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Proxy auto-configuration (PAC) files.
    #[command(subcommand)]
    Pac(PacCommand),
    /// Where this machine's proxy comes from (the profile, the environment,
    /// WinHTTP, WinINET for SYSTEM and the user, WPAD), what each says, and
    /// which one each ConfigMgr role uses.
    Routes(RoutesArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Options shared by every command that reads the catalog. Precedence:
/// command line, then profile, then default.
#[derive(Debug, Args, Clone, Default)]
pub struct Source {
    /// The catalog: an embedded one by id (`configmgr`) or a catalog file,
    /// instead of the embedded ConfigMgr catalog. Repeatable: the catalogs
    /// are composed, the first one the base (docs/catalog-format.md). A
    /// file holding the Microsoft 365 web service's JSON answer is
    /// imported as it is read.
    #[arg(long, value_name = "NAME|FILE")]
    pub catalog: Vec<String>,
    /// Catalog revision of the embedded catalog: an id (2020-07, 2025-03)
    /// or alias (latest).
    #[arg(long, value_name = "ID")]
    pub revision: Option<String>,
    /// Site profile (TOML): cloud, version, features, roles, placeholder values.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: Source,
    #[command(flatten)]
    pub select: Select,
    /// Azure cloud (default: the profile's, else public).
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Which features and roles to include.
#[derive(Debug, Args, Clone, Default)]
pub struct Select {
    /// Only endpoints a role needs (repeatable). Endpoints whose role is
    /// `unspecified` are kept for every role.
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Only these features (repeatable).
    #[arg(long = "feature", value_name = "FEATURE")]
    pub features: Vec<String>,
    /// Every feature but these (repeatable; with the profile's
    /// `exclude_features`).
    #[arg(long = "exclude-feature", value_name = "FEATURE")]
    pub exclude_features: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Check through every route discovered (direct, the profile, WinHTTP,
    /// WinINET, WPAD) and report, per feature, which work.
    #[arg(long, conflicts_with_all = ["proxy", "no_proxy", "proxy_from"])]
    pub routes: bool,
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A progress bar on stderr.
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Where to listen. Port 9466: next to blackbox_exporter's 9115 in
    /// Prometheus' list of exporter ports, and free there.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9466")]
    pub listen: std::net::SocketAddr,
    /// Listen on an address other machines can reach without a warning.
    #[arg(long)]
    pub allow_remote: bool,
    /// Time between runs (with up to a tenth of it as jitter).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub interval: String,
    /// Runs kept in the history (failures and changes kept longest).
    #[arg(long, value_name = "N", default_value_t = 288, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub history: u32,
    /// Keep the history in FILE (JSON lines, rewritten atomically after
    /// each run), so that a restart keeps it.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Run as a Windows service (for the service control manager; see
    /// docs/serve.md).
    #[arg(long)]
    pub service: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ProxyArgs {
    #[command(flatten)]
    pub source: Source,
    /// `--role` gives sources that are not a server of the profile a plan
    /// (without servers in the profile: every source).
    #[command(flatten)]
    pub select: Select,
    /// Azure cloud (default: the profile's, else public).
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    /// Where to listen.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:3128")]
    pub listen: std::net::SocketAddr,
    /// report: allow what the plan does not, and log it as would_deny;
    /// enforce: deny it.
    #[arg(long, value_enum, default_value_t = ProxyMode::Report)]
    pub mode: ProxyMode,
    /// A network the proxy may connect to although it is not public
    /// (repeatable): `10.0.0.0/8`, `127.0.0.0/8`.
    #[arg(long = "allow-net", value_name = "CIDR")]
    pub allow_net: Vec<String>,
    #[command(flatten)]
    pub names: ResolveArgs,
    /// Send allowed traffic through this proxy (the corporate one):
    /// `http://[user:password@]host:port`. egress then does not resolve
    /// targets; the parent does.
    #[arg(long, value_name = "URL")]
    pub parent: Option<String>,
    /// Authentication to the parent: auto (the strongest it offers), basic,
    /// ntlm, negotiate, or none. Credentials: the parent's URL, or
    /// EGRESS_PROXY_USER and EGRESS_PROXY_PASSWORD.
    #[arg(long, value_enum, value_name = "SCHEME", default_value_t = ProxyAuthArg::Auto, requires = "parent")]
    pub proxy_auth: ProxyAuthArg,
    /// The decision log, JSON lines: appended to FILE, or `-` for standard
    /// output.
    #[arg(long, value_name = "FILE|-")]
    pub decision_log: Option<String>,
    /// Close a tunnel after this long without a byte either way. The
    /// catalog's long-lived channels (the notification channel to
    /// *.manage.microsoft.com) idle for minutes: keep it at 10m or more.
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub tunnel_idle_timeout: String,
    /// A client must send a request's head within this time.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub header_timeout: String,
    /// On SIGTERM or Ctrl-C, wait this long for open tunnels and requests
    /// to end (no new connections are taken meanwhile); a second signal
    /// stops at once.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub drain_timeout: String,
    /// Client connections held at once; further ones wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Tunnels one source address may hold at once; further CONNECTs get
    /// 429.
    #[arg(long, value_name = "N", default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_tunnels_per_source: u32,
    /// Serve the proxy's metrics (GET /metrics, Prometheus) on this
    /// address.
    #[arg(long, value_name = "ADDR:PORT")]
    pub admin_listen: Option<std::net::SocketAddr>,
    /// Also log each request to FILE in Squid's native access.log format.
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<std::path::PathBuf>,
    /// Check the configuration, print what would be enforced, and exit.
    #[arg(long)]
    pub test_config: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProxyMode {
    Report,
    Enforce,
}

/// What to check and how to probe it: shared by `check` and `serve`.
#[derive(Debug, Args, Clone)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub source: Source,
    #[command(flatten)]
    pub select: Select,
    /// Azure cloud (default: the profile's, else public).
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    #[command(flatten)]
    pub route: RouteArgs,
    /// Endpoints checked at once (1 to 1024).
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Only this TLS version.
    #[arg(long, value_enum)]
    pub tls_version: Option<TlsVersionArg>,
    /// Probe superseded and out-of-date endpoints too, without counting them.
    #[arg(long)]
    pub include_inactive: bool,
    /// What counts as the public Web PKI (PEM), for the TLS inspection check.
    #[arg(long, value_name = "PEM", hide = true)]
    pub public_roots: Option<PathBuf>,
}

/// How egress reaches the internet: the proxy and its authentication,
/// deadlines, name resolution and trusted CAs (check, serve, catalog fetch).
#[derive(Debug, Args, Clone)]
pub struct RouteArgs {
    /// The proxy to go through: `http://[user:password@]host:port` (default:
    /// HTTPS_PROXY or HTTP_PROXY, honouring NO_PROXY). Credentials may also
    /// come from EGRESS_PROXY_USER and EGRESS_PROXY_PASSWORD.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,
    /// Connect directly, whatever the environment says.
    #[arg(long)]
    pub no_proxy: bool,
    /// Where the proxy comes from: profile, env, winhttp, wininet-system,
    /// wininet-user, pac:URL_OR_FILE, wpad, none, or auto (the source each
    /// selected role uses; docs/proxy-discovery.md).
    #[arg(long, value_name = "SOURCE", conflicts_with_all = ["proxy", "no_proxy"])]
    pub proxy_from: Option<egress_winproxy::Source>,
    /// How to authenticate to a proxy that asks: auto (the strongest
    /// scheme it offers: NTLM, then Negotiate, then Basic with credentials;
    /// Negotiate, then NTLM as the logon identity on Windows), basic, ntlm,
    /// negotiate, or none. Credentials: the proxy URL, the profile's
    /// [proxy], or EGRESS_PROXY_USER (DOMAIN\user or user@domain) and
    /// EGRESS_PROXY_PASSWORD.
    #[arg(long, value_enum, value_name = "SCHEME", default_value_t = ProxyAuthArg::Auto)]
    pub proxy_auth: ProxyAuthArg,
    #[command(flatten)]
    pub discovery: DiscoveryArgs,
    #[command(flatten)]
    pub net: NetArgs,
    /// Deadline of each TCP connect attempt.
    #[arg(long, value_name = "DURATION", default_value = "3s")]
    pub connect_timeout: String,
    /// Trust only `--ca-file`, not the platform's store (tests).
    #[arg(long, hide = true)]
    pub roots_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProxyAuthArg {
    Auto,
    Basic,
    Ntlm,
    Negotiate,
    None,
}

impl From<ProxyAuthArg> for egress_check::auth::AuthMode {
    fn from(a: ProxyAuthArg) -> Self {
        use egress_check::auth::AuthMode;
        match a {
            ProxyAuthArg::Auto => AuthMode::Auto,
            ProxyAuthArg::Basic => AuthMode::Basic,
            ProxyAuthArg::Ntlm => AuthMode::Ntlm,
            ProxyAuthArg::Negotiate => AuthMode::Negotiate,
            ProxyAuthArg::None => AuthMode::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsVersionArg {
    #[value(name = "1.2")]
    V12,
    #[value(name = "1.3")]
    V13,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Table,
    Json,
    Junit,
    Markdown,
    Prometheus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The target: what it admits is in docs/targets.md.
    #[arg(value_parser = render_targets())]
    pub target: String,
    #[command(flatten)]
    pub source: Source,
    #[command(flatten)]
    pub select: Select,
    /// Azure cloud (default: the profile's, else public).
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Losses of precision that are an error (exit status 1, nothing
    /// written): `--strict` refuses any; `--strict=ports,paths` only those
    /// kinds (the `=` is required).
    #[arg(
        long,
        value_enum,
        value_name = "KIND,...",
        num_args = 0..=1,
        require_equals = true,
        value_delimiter = ',',
        default_missing_value = "all"
    )]
    pub strict: Option<Vec<StrictKind>>,
    /// The intranet rows (between site systems, for the internal firewall)
    /// instead of the internet ones.
    #[arg(long)]
    pub intranet: bool,
    /// Rows whose placeholder has no value: `omit` leaves them out and says
    /// so first (default: the profile's `placeholders_policy`, else omit);
    /// `widen` writes every label up to the placeholder as one `*`.
    #[arg(long, value_enum, value_name = "POLICY")]
    pub placeholders: Option<PlaceholdersArg>,
    /// squid: `exact` keeps `*.x` from admitting `x` (dstdom_regex); `loose`
    /// writes `.x` (dstdomain), which admits `x`, and reports it.
    #[arg(long, value_enum, default_value_t = SquidStyleArg::Exact)]
    pub squid_style: SquidStyleArg,
    /// pac: where allowed hosts go: `HOST:PORT` (a proxy) or `DIRECT`.
    /// Repeatable: a failover list, tried in order (several `egress proxy`
    /// instances, say).
    #[arg(long, value_name = "HOST:PORT|DIRECT", default_value = "DIRECT")]
    pub pac_proxy: Vec<String>,
    /// pac: where everything else goes: `DIRECT`, `PROXY HOST:PORT`, or
    /// `blackhole` (a proxy that answers nothing: 127.0.0.1:9).
    #[arg(long, value_name = "ROUTE", default_value = "blackhole")]
    pub pac_default: String,
    /// pan-edl: the list type: domain or url (the plan's hosts), or ip (its
    /// IP ranges).
    #[arg(long, value_enum, default_value_t = EdlTypeArg::Domain)]
    pub edl_type: EdlTypeArg,
    /// aws-network-firewall: a domain list (the plan's hosts) or 5-tuple
    /// stateful rules (its IP ranges).
    #[arg(long, value_enum, default_value_t = AwsRulesArg::DomainList)]
    pub aws_rules: AwsRulesArg,
    /// plain: hosts only, one a line, without the comment header (losses
    /// still go to stderr).
    #[arg(long)]
    pub no_header: bool,
}

/// The render targets: every allowlist target `egress-render` has, then the
/// plan's own forms.
fn render_targets() -> clap::builder::PossibleValuesParser {
    let allowlists = egress_render::Target::ALL
        .into_iter()
        .map(|t| PossibleValue::new(t.name()).help(t.about()));
    let plan = [
        PossibleValue::new("json").help("The plan, exactly as `plan --format json`"),
        PossibleValue::new("csv").help("The plan as CSV"),
        PossibleValue::new("markdown").help("The plan as a markdown change-board table"),
    ];
    clap::builder::PossibleValuesParser::new(allowlists.chain(plan))
}

/// The kinds of loss `--strict=KIND,...` refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrictKind {
    /// Every kind below.
    All,
    /// Rows whose placeholder has no value (left out or widened).
    Placeholders,
    /// Ports the target cannot restrict.
    Ports,
    /// Paths the target cannot see or match.
    Paths,
    /// Sources the target cannot restrict to a role's servers.
    Sources,
    /// `.x` admitting the apex `x` of `*.x`.
    Apex,
    /// Partial-label wildcards broadened.
    Broadened,
    /// IP ranges a list of hosts cannot hold, or hosts a list of
    /// addresses cannot hold.
    Kinds,
}

impl StrictKind {
    pub fn name(self) -> &'static str {
        match self {
            StrictKind::All => "all",
            StrictKind::Placeholders => "placeholders",
            StrictKind::Ports => "ports",
            StrictKind::Paths => "paths",
            StrictKind::Sources => "sources",
            StrictKind::Apex => "apex",
            StrictKind::Broadened => "broadened",
            StrictKind::Kinds => "kinds",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlaceholdersArg {
    Omit,
    Widen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SquidStyleArg {
    Exact,
    Loose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EdlTypeArg {
    Domain,
    Url,
    Ip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AwsRulesArg {
    DomainList,
    #[value(name = "5-tuple")]
    FiveTuple,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub source: Source,
    /// Hosts, `host:port`s or URLs; `-` reads one per line from standard input.
    #[arg(value_name = "HOST_OR_URL", required = true)]
    pub inputs: Vec<String>,
    /// Let a label placeholder (`<cmg-name>`) without a value stand for
    /// exactly one label; matches say so. Host placeholders (a server's
    /// FQDN) still match nothing.
    #[arg(long)]
    pub placeholders_as_labels: bool,
    #[arg(long, value_enum, default_value_t = ExplainFormat::Table)]
    pub format: ExplainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// For people.
    Table,
    /// One JSON document per line and input.
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Read proxy logs and report the denied or failed requests the plan
    /// needs (by feature and role), the hosts seen under each wildcard of
    /// the plan, and the denied hosts the catalog does not know. Exit
    /// status 1 when the plan needs a denied request.
    Log(AuditLogArgs),
    /// Read an existing allowlist and report, per plan row, whether it
    /// admits it exactly, only more broadly, in part or not at all, and
    /// the entries no plan row explains. Exit status 1 when a row is
    /// blocked, wholly or in part.
    Allowlist(AuditAllowlistArgs),
}

#[derive(Debug, Args)]
pub struct AuditAllowlistArgs {
    /// Allowlist files, or `-` for standard input.
    #[arg(required = true, value_name = "FILE|-")]
    pub files: Vec<String>,
    /// What the files are written in, read in that target's own matching
    /// semantics (docs/audit.md).
    #[arg(long, value_enum)]
    pub input: AllowlistInput,
    #[command(flatten)]
    pub source: Source,
    #[command(flatten)]
    pub select: Select,
    /// Azure cloud (default: the profile's, else public).
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// With `--input pac`: a route that blocks (repeatable), as the PAC
    /// file returns it; `render pac --pac-default blackhole` writes the
    /// default.
    #[arg(long, value_name = "ROUTE", default_value = "PROXY 127.0.0.1:9")]
    pub pac_blackhole: Vec<String>,
    /// With `--input squid`: a local copy of the proxy's file tree; the
    /// absolute paths the configuration names (includes, list files) are
    /// read below it, as under a sysroot.
    #[arg(long, value_name = "DIR")]
    pub root: Option<std::path::PathBuf>,
    /// With `--input squid`: the user the site systems authenticate to
    /// the proxy as (default: the profile's `[proxy]` user); rows behind
    /// an authentication rule are judged as that user.
    #[arg(long, value_name = "NAME")]
    pub proxy_user: Option<String>,
    /// The site systems' address as the proxy or firewall sees it (an
    /// address or a CIDR range), for rules on sources (Squid's `src`,
    /// Azure's `sourceAddresses`; default: the addresses of the profile's
    /// servers of each row's roles). Not with `--input pac`.
    #[arg(long, value_name = "ADDRESS")]
    pub client: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AllowlistInput {
    /// A Squid configuration: its acls and http_access rules, evaluated.
    Squid,
    /// A PAC file, evaluated: a row whose URL it routes to a blackhole
    /// (`--pac-blackhole`) is blocked.
    Pac,
    /// One egress host pattern a line.
    Plain,
    /// A PAN-OS external dynamic list, domain or URL type.
    PanEdl,
    /// An AWS Network Firewall stateful rule group (JSON: a domain list or
    /// Suricata rules), or a Suricata rules file.
    AwsNetworkFirewall,
    /// Azure Firewall application rules: a policy's rule collection group
    /// (ARM template), or a classic firewall's rule collections.
    AzureFirewall,
}

#[derive(Debug, Args)]
pub struct AuditLogArgs {
    /// Log files (gzip-compressed ones too), or `-` for standard input.
    #[arg(required = true, value_name = "FILE|-")]
    pub files: Vec<String>,
    /// What the logs are written in: Squid's native access.log, W3C
    /// extended (IIS, TMG, appliances), or egress proxy's decision log.
    #[arg(long, value_enum)]
    pub input: LogInput,
    #[command(flatten)]
    pub source: Source,
    #[command(flatten)]
    pub select: Select,
    /// Azure cloud (default: the profile's, else public).
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// Hosts kept per list (most seen first).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub top: u32,
    /// Also list allowed hosts outside the plan.
    #[arg(long)]
    pub show_unplanned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogInput {
    Squid,
    W3c,
    Egress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List the catalog's endpoints, grouped by feature.
    List(ListArgs),
    /// List the catalog's features.
    Features(BrowseArgs),
    /// List the catalog's roles.
    Roles(BrowseArgs),
    /// List the catalog's placeholders and the profile keys that set them.
    Placeholders(BrowseArgs),
    /// List the revisions built into egress.
    Revisions(RevisionsArgs),
    /// What changed between two catalogs (files, or embedded revisions as
    /// `configmgr@2020-07`). Exit status 0 when equal, 1 when different.
    Diff(DiffArgs),
    /// Read a vendor docs page (Microsoft Learn markdown, with its
    /// includes) into a catalog; report on stderr everything not taken.
    Import(ImportArgs),
    /// Fetch a catalog's source through the check's route (proxy,
    /// authentication, CAs): a docs page's Markdown with its includes, or
    /// the Microsoft 365 web service (`m365:worldwide`); import it, show
    /// what changed, and write FILE only when the result loads.
    Fetch(Box<FetchArgs>),
    /// Write an embedded catalog as a standalone file, to start a vendor's
    /// or a site's own catalog from (it loads with --catalog).
    Export(ExportArgs),
    /// Check a catalog file and report every problem in it.
    Validate {
        /// The catalog file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// `m365:worldwide`, `m365:usgov-dod`, `m365:usgov-gcchigh`,
    /// `m365:china` (the web service's `/endpoints` answer), or the
    /// `http(s)://` URL of a docs page's Markdown source.
    pub source: String,
    /// Write the catalog to FILE (atomically, only when it loads). When
    /// FILE already holds the web service's latest version, nothing more
    /// is fetched.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Show what changed against this catalog: a file, or
    /// `configmgr@REVISION` (default: FILE as it was; for a docs page
    /// without FILE, the embedded catalog).
    #[arg(long, value_name = "CATALOG")]
    pub against: Option<String>,
    /// m365: import only this service area (repeatable).
    #[arg(long = "service-area", value_name = "AREA")]
    pub service_areas: Vec<String>,
    /// m365: the web service's address, for a mirror of it.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://endpoints.office.com"
    )]
    pub service_url: String,
    /// m365: fetch and write even when FILE holds the latest version.
    #[arg(long)]
    pub force: bool,
    /// A docs page: the catalog revision (default: year and month of its
    /// `ms.date`).
    #[arg(long, value_name = "ID")]
    pub revision: Option<String>,
    #[command(flatten)]
    pub route: RouteArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The embedded revision: an id (2020-07, 2025-03) or alias (latest).
    #[arg(long, value_name = "ID", default_value = "latest")]
    pub revision: String,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub source: Source,
    /// Only endpoints of this feature (repeatable).
    #[arg(long = "feature", value_name = "FEATURE")]
    pub features: Vec<String>,
    /// Only endpoints this role needs (repeatable; `unspecified` endpoints are kept).
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Only endpoints that apply to this cloud.
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older catalog: a file, or `configmgr@REVISION`.
    pub old: String,
    /// The newer catalog: a file, or `configmgr@REVISION`.
    pub new: String,
    /// Only what this site's plan contains (features, roles, cloud,
    /// version): what to change in its firewall.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// `full` compares every attribute; `firewall` only what a firewall
    /// rule holds: hosts and schemes added or removed, ports and clouds
    /// changed.
    #[arg(long, value_enum, default_value_t = DiffView::Full)]
    pub view: DiffView,
    /// Attributes whose changes do not count (comma-separated or
    /// repeated): notes, validity, ...
    #[arg(long, value_name = "ATTR,...", value_delimiter = ',', value_parser = diff_attributes())]
    pub ignore: Vec<String>,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The attributes `catalog diff` compares, from the library's list.
fn diff_attributes() -> clap::builder::PossibleValuesParser {
    egress_catalog::diff::Attribute::ALL
        .into_iter()
        .map(|a| PossibleValue::new(a.name()))
        .collect::<Vec<_>>()
        .into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffView {
    Full,
    Firewall,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The page's markdown source, such as `internet-endpoints.md`; with
    /// `--format m365-json`, the web service's `/endpoints` answer; with
    /// `--format m365-changes`, its `/changes` answer.
    pub page: PathBuf,
    /// What PAGE is: a docs page in Microsoft Learn markdown, or the
    /// Microsoft 365 IP address and URL web service's JSON (`/endpoints`,
    /// or `/changes` applied to the catalog `--to` names).
    #[arg(long, value_enum, default_value_t = ImportFormat::Markdown)]
    pub format: ImportFormat,
    /// m365-changes: the catalog (imported from `/endpoints`) the changes
    /// apply to; the result goes to `-o` (which may be the same file).
    #[arg(long, value_name = "CATALOG", required_if_eq("format", "m365-changes"))]
    pub to: Option<PathBuf>,
    /// m365-json: the web service instance the answer is from.
    #[arg(long, value_enum, default_value_t = M365Instance::Worldwide)]
    pub instance: M365Instance,
    /// m365-json: import only this service area (`Common`, `Exchange`,
    /// `SharePoint`, `Skype`, `MEM`, ...; repeatable).
    #[arg(long = "service-area", value_name = "AREA")]
    pub service_areas: Vec<String>,
    /// m365-json: the day the answer describes (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub describes: Option<jiff::civil::Date>,
    /// Resolve the page's `[!INCLUDE [...](path)]` paths against DIR
    /// instead of the page's folder.
    #[arg(long, value_name = "DIR")]
    pub includes: Option<PathBuf>,
    /// The catalog revision (default: year and month of the page's `ms.date`).
    #[arg(long, value_name = "ID")]
    pub revision: Option<String>,
    /// Write the catalog to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    Markdown,
    #[value(name = "m365-json")]
    M365Json,
    #[value(name = "m365-changes")]
    M365Changes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum M365Instance {
    Worldwide,
    #[value(name = "usgov-dod")]
    UsgovDod,
    #[value(name = "usgov-gcchigh")]
    UsgovGcchigh,
    China,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct BrowseArgs {
    #[command(flatten)]
    pub source: Source,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `catalog revisions`: the embedded revisions, so no catalog or profile.
#[derive(Debug, Args)]
pub struct RevisionsArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Write a commented example profile.
    Init {
        /// Write to FILE instead of standard output (never overwrites).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check a profile against its catalog and report every problem in it.
    Validate {
        /// A catalog file to check it against instead of the one it names.
        #[arg(long, value_name = "FILE")]
        catalog: Option<PathBuf>,
        /// The catalog revision to check it against instead of its own.
        #[arg(long, value_name = "ID")]
        revision: Option<String>,
        /// The profile file.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    Public,
    Usgov,
}

#[derive(Debug, Subcommand)]
pub enum PacCommand {
    /// What a PAC file answers for each URL: the URL, a tab, and what
    /// FindProxyForURL returned, verbatim (as `pactester` prints it).
    Eval(PacEvalArgs),
}

#[derive(Debug, Args)]
pub struct PacEvalArgs {
    /// The PAC file: a path, or an http:// or https:// URL (fetched
    /// directly).
    #[arg(long, value_name = "FILE_OR_URL")]
    pub pac: String,
    /// The address myIpAddress() returns (default: the address this
    /// machine's traffic leaves from).
    #[arg(long, value_name = "ADDR")]
    pub client_ip: Option<std::net::IpAddr>,
    #[command(flatten)]
    pub net: NetArgs,
    /// Also the URLs in this file, one a line (as `pactester -f`).
    #[arg(long, value_name = "FILE")]
    pub urls_file: Option<PathBuf>,
    /// The URLs to evaluate.
    #[arg(required_unless_present = "urls_file", value_name = "URL")]
    pub urls: Vec<String>,
}

/// Where Windows proxy settings and WPAD come from.
#[derive(Debug, Args, Clone, Default)]
pub struct DiscoveryArgs {
    /// Read WinHTTP and WinINET settings from this `reg export` file
    /// (UTF-16 as Windows writes it, or UTF-8) instead of the registry.
    #[arg(long, value_name = "FILE.reg")]
    pub registry: Option<PathBuf>,
    /// The DNS domain WPAD searches (default: this machine's).
    #[arg(long, value_name = "DOMAIN")]
    pub wpad_domain: Option<String>,
    /// The address a PAC file's myIpAddress() returns (default: the address
    /// this machine's traffic leaves from).
    #[arg(long, value_name = "ADDR")]
    pub client_ip: Option<std::net::IpAddr>,
}

#[derive(Debug, Args)]
pub struct RoutesArgs {
    #[command(flatten)]
    pub source: Source,
    #[command(flatten)]
    pub select: Select,
    /// Only these sources (repeatable; default: every one).
    #[arg(long, value_name = "SOURCE")]
    pub proxy_from: Vec<egress_winproxy::Source>,
    #[command(flatten)]
    pub discovery: DiscoveryArgs,
    #[command(flatten)]
    pub net: NetArgs,
    #[arg(long, value_enum, default_value_t = RoutesFormat::Table)]
    pub format: RoutesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoutesFormat {
    Table,
    Json,
}

/// How names are resolved: every command that looks names up, the proxy
/// included.
#[derive(Debug, Args, Clone)]
pub struct ResolveArgs {
    /// Use ADDR for HOST:PORT instead of asking DNS (repeatable). Where a
    /// proxy resolves the targets (check's --proxy, proxy's --parent), it
    /// pins the proxy's own name.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Ask this DNS server (port 53 unless given) instead of the system's
    /// resolver.
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub dns_server: Option<String>,
}

/// How names are resolved, servers trusted and deadlines kept, for
/// commands that fetch or look up: the check, serve, catalog fetch, a PAC
/// file's `dnsResolve`, WPAD.
#[derive(Debug, Args, Clone)]
pub struct NetArgs {
    #[command(flatten)]
    pub names: ResolveArgs,
    /// Trust these CA certificates too (PEM, repeatable).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,
    /// Deadline of each phase: a lookup, the proxy, TLS, HTTP (per
    /// endpoint, or per fetch).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub timeout: String,
}
