//! What a presented certificate says, for reports: names, validity, and
//! where its revocation is checked.

use rustls::pki_types::CertificateDer;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub crl_urls: Vec<String>,
    pub ocsp_urls: Vec<String>,
}

/// Reads a DER certificate; one that cannot be parsed gives empty fields
/// (it is reported by the TLS phase anyway).
pub(crate) fn info(der: &CertificateDer<'_>) -> CertInfo {
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        return CertInfo::default();
    };
    let mut out = CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        ..CertInfo::default()
    };
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    {
                        out.crl_urls.extend(names.iter().filter_map(uri));
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in aia.accessdescs.iter() {
                    // id-ad-ocsp: 1.3.6.1.5.5.7.48.1
                    if desc.access_method.to_id_string() == "1.3.6.1.5.5.7.48.1"
                        && let Some(u) = uri(&desc.access_location)
                    {
                        out.ocsp_urls.push(u);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn uri(name: &GeneralName<'_>) -> Option<String> {
    match name {
        GeneralName::URI(u) => Some((*u).to_owned()),
        _ => None,
    }
}
