//! TLS for the PostgreSQL connection, by rustls with the ring provider (no OpenSSL). `sslmode`
//! keeps libpq's meaning so an operator's URL does what it does elsewhere: `prefer` and
//! `require` encrypt without checking the certificate, `verify-full` checks the chain (against
//! the Mozilla roots or `sslrootcert`) and the host name.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{PgSettings, PgSslMode};
use crate::store::StoreError;

/// The connector for `settings.ssl_mode`; `None` for `disable` (plain TCP).
pub fn connector(settings: &PgSettings) -> Result<Option<MakeRustlsConnect>, StoreError> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Io(format!("TLS setup: {e}")))?;
    let config = match settings.ssl_mode {
        PgSslMode::Disable => return Ok(None),
        PgSslMode::Prefer | PgSslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
        PgSslMode::VerifyFull => builder
            .with_root_certificates(roots(settings)?)
            .with_no_client_auth(),
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// `sslrootcert`'s certificates if named, else the Mozilla roots.
fn roots(settings: &PgSettings) -> Result<RootCertStore, StoreError> {
    let Some(path) = &settings.root_cert else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let problem = |e: String| StoreError::Io(format!("sslrootcert {}: {e}", path.display()));
    let pem = std::fs::read(path).map_err(|e| problem(e.to_string()))?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| problem(e.to_string()))?;
        store.add(cert).map_err(|e| problem(e.to_string()))?;
    }
    if store.is_empty() {
        return Err(problem("no certificate in the file".into()));
    }
    Ok(store)
}

/// libpq's `require`: any certificate is accepted, but the handshake signatures are still
/// checked, so the session is encrypted to whoever holds the presented certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
