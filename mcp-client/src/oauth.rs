//! OAuth for streamable HTTP servers, on rmcp's `auth` feature: discovery (protected-resource
//! and authorization-server metadata), dynamic client registration, PKCE, resource indicators
//! and token refresh are rmcp's; this module stores the tokens under `$CODEX_HOME` (0600) and
//! runs the authorization-code flow, in a browser (`codex mcp login`) or headless (tests, the
//! conformance client).

use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use rmcp::transport::auth::AuthError;
use rmcp::transport::auth::AuthorizationManager;
use rmcp::transport::auth::AuthorizationRequest;
use rmcp::transport::auth::CredentialStore;
use rmcp::transport::auth::OAuthState;
use rmcp::transport::auth::StoredCredentials;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;

/// Folder of `$CODEX_HOME` that holds one token file per server.
pub const OAUTH_DIR: &str = "mcp-oauth";
/// `client_name` sent in dynamic client registration.
const CLIENT_NAME: &str = "Codex";
/// How long `codex mcp login` waits for the browser to come back.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("OAuth with {url} failed: {message}")]
    Flow { url: String, message: String },
    #[error("OAuth login timed out after {}s waiting for the browser to return", .0.as_secs())]
    Timeout(Duration),
    #[error("OAuth callback server: {0}")]
    Callback(String),
}

/// Tokens of one server in `$CODEX_HOME/mcp-oauth/<server>-<hash of url>.json`, written with
/// mode 0600. The url is part of the name so that pointing a server at a new URL does not send
/// it the old server's tokens.
#[derive(Debug, Clone)]
pub struct FileCredentialStore {
    path: PathBuf,
}

impl FileCredentialStore {
    pub fn for_server(codex_home: &Path, server: &str, url: &str) -> Self {
        let file = format!("{server}-{:08x}.json", crate::naming::short_hash(url));
        Self {
            path: codex_home.join(OAUTH_DIR).join(file),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether tokens are stored (a login happened and was not undone).
    pub fn exists(&self) -> bool {
        self.path.is_file()
    }

    /// Deletes the stored tokens; `false` when there were none.
    pub fn delete(&self) -> std::io::Result<bool> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(err),
        }
    }

    fn write(&self, text: &str) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        std::io::Write::write_all(&mut options.open(&tmp)?, text.as_bytes())?;
        std::fs::rename(&tmp, &self.path)
    }
}

fn store_error(err: impl std::fmt::Display) -> AuthError {
    AuthError::InternalError(format!("credential store: {err}"))
}

#[async_trait::async_trait]
impl CredentialStore for FileCredentialStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(store_error),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(store_error(err)),
        }
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let text = serde_json::to_string_pretty(&credentials).map_err(store_error)?;
        self.write(&text).map_err(store_error)
    }

    async fn clear(&self) -> Result<(), AuthError> {
        self.delete().map(|_| ()).map_err(store_error)
    }
}

/// An authorization manager for `url` that reads and refreshes the tokens in `store`; `None`
/// when nothing is stored.
pub(crate) async fn stored_authorization(
    url: &str,
    store: FileCredentialStore,
) -> Result<Option<AuthorizationManager>, AuthError> {
    if !store.exists() {
        return Ok(None);
    }
    let mut manager = new_manager(url).await?;
    manager.set_credential_store(store);
    Ok(manager.initialize_from_store().await?.then_some(manager))
}

async fn new_manager(url: &str) -> Result<AuthorizationManager, AuthError> {
    // Loopback and private servers are legitimate here: local development servers and company
    // networks. rmcp still refuses metadata that points a public server at private addresses.
    AuthorizationManager::new_allowing_private_addresses(url).await
}

/// Client identity for servers that do not offer dynamic registration.
#[derive(Debug, Clone, Default)]
pub struct PreregisteredClient {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// What [`authorize`] needs besides the server URL.
#[derive(Debug, Clone)]
pub struct AuthorizeOptions {
    pub redirect_uri: String,
    /// The `WWW-Authenticate` header of the server's 401/403, when the flow reacts to one: it
    /// names the resource metadata and the scopes the server wants.
    pub challenge: Option<String>,
    pub client: Option<PreregisteredClient>,
    /// HTTPS URL of this client's metadata document (SEP-991), used as the client id by
    /// authorization servers that support client id metadata documents.
    pub client_metadata_url: Option<String>,
    pub scopes: Vec<String>,
}

/// Runs the authorization-code flow for `url` and saves the tokens in `store`. `visit` gets the
/// authorization URL, has the user (or a test) approve it, and returns the redirect URL the
/// authorization server sent back (with `code` and `state`).
pub async fn authorize<F, Fut>(
    url: &str,
    store: FileCredentialStore,
    options: AuthorizeOptions,
    visit: F,
) -> Result<(), OAuthError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<String, OAuthError>>,
{
    let flow_error = |err: AuthError| OAuthError::Flow {
        url: url.to_string(),
        message: err.to_string(),
    };
    let mut manager = new_manager(url).await.map_err(flow_error)?;
    manager.set_credential_store(store);
    let mut state = OAuthState::Unauthorized(manager);
    let mut request = AuthorizationRequest::new(options.redirect_uri).with_client_name(CLIENT_NAME);
    if let Some(challenge) = options.challenge {
        request = request.with_challenge(challenge);
    }
    if let Some(client) = options.client {
        request = request.with_preregistered_client(client.client_id);
        if let Some(secret) = client.client_secret {
            request = request.with_client_secret(secret);
        }
    }
    if let Some(metadata_url) = options.client_metadata_url {
        request = request.with_client_metadata_url(metadata_url);
    }
    if !options.scopes.is_empty() {
        request = request.with_scopes(options.scopes);
    }
    state
        .start_authorization(request)
        .await
        .map_err(flow_error)?;
    let authorization_url = state.get_authorization_url().await.map_err(flow_error)?;
    let callback = visit(authorization_url).await?;
    state
        .handle_callback_url(&callback)
        .await
        .map_err(flow_error)?;
    Ok(())
}

/// `codex mcp login`: the flow in the user's browser. Prints the authorization URL, tries to
/// open it, and waits (up to `timeout`) on a one-shot HTTP server at 127.0.0.1 for the redirect.
pub async fn login_in_browser(
    url: &str,
    store: FileCredentialStore,
    timeout: Duration,
) -> Result<(), OAuthError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|err| OAuthError::Callback(err.to_string()))?;
    let port = listener
        .local_addr()
        .map_err(|err| OAuthError::Callback(err.to_string()))?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let options = AuthorizeOptions {
        redirect_uri: format!("{base}/callback"),
        challenge: None,
        client: None,
        client_metadata_url: None,
        scopes: Vec::new(),
    };
    authorize(url, store, options, |authorization_url| async move {
        eprintln!("Open this URL in your browser to authorize Codex:\n{authorization_url}");
        open_in_browser(&authorization_url);
        tokio::time::timeout(timeout, wait_for_callback(listener, &base))
            .await
            .map_err(|_| OAuthError::Timeout(timeout))?
    })
    .await
}

/// Best effort: the URL was printed anyway.
fn open_in_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Answers requests until one for `/callback` arrives; returns its full URL.
async fn wait_for_callback(
    listener: tokio::net::TcpListener,
    base: &str,
) -> Result<String, OAuthError> {
    loop {
        let (mut socket, _) = listener
            .accept()
            .await
            .map_err(|err| OAuthError::Callback(err.to_string()))?;
        let mut buffer = vec![0u8; 8192];
        // Browsers open speculative connections that never send a request: give up on those
        // quickly so the real callback, on another connection, is not kept waiting.
        let read = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buffer))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0);
        if read == 0 {
            continue;
        }
        let head = String::from_utf8_lossy(&buffer[..read]).into_owned();
        let target = head
            .lines()
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .unwrap_or("")
            .to_string();
        let (status, body) = if target.starts_with("/callback?") {
            (
                "200 OK",
                "Authentication complete. You may close this window.",
            )
        } else {
            ("400 Bad Request", "Invalid OAuth callback.")
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
        if status.starts_with("200") {
            return Ok(format!("{base}{target}"));
        }
    }
}

/// `visit` without a browser: requests the authorization URL and takes the redirect the
/// authorization server answers with (servers that approve without a login page, like the
/// conformance suite's).
pub async fn follow_redirect_without_browser(
    authorization_url: String,
) -> Result<String, OAuthError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|err| OAuthError::Callback(err.to_string()))?;
    let response = client
        .get(&authorization_url)
        .send()
        .await
        .map_err(|err| OAuthError::Callback(err.to_string()))?;
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| {
            OAuthError::Callback(format!(
                "the authorization server answered {} without a redirect",
                response.status()
            ))
        })
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[tokio::test]
    async fn tokens_round_trip_through_a_private_file() {
        let home = tempfile::tempdir().unwrap();
        let store = FileCredentialStore::for_server(home.path(), "docs", "https://x.test/mcp");
        assert!(store.load().await.unwrap().is_none());
        store
            .save(StoredCredentials::new(
                "client-1".into(),
                None,
                vec!["read".into()],
                Some(7),
            ))
            .await
            .unwrap();
        assert!(store.exists());
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!(loaded.client_id, "client-1");
        assert_eq!(loaded.granted_scopes, vec!["read".to_string()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Another URL for the same name is another identity.
        let other = FileCredentialStore::for_server(home.path(), "docs", "https://y.test/mcp");
        assert!(!other.exists());
        store.clear().await.unwrap();
        assert!(!store.exists());
        assert!(!store.delete().unwrap());
    }

    #[tokio::test]
    async fn the_callback_server_waits_for_the_callback_path() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let waiting = tokio::spawn({
            let base = base.clone();
            async move { wait_for_callback(listener, &base).await }
        });
        let get = |path: &str| {
            let url = format!("{base}{path}");
            async move { reqwest::get(url).await.unwrap() }
        };
        assert_eq!(get("/favicon.ico").await.status(), 400);
        let done = get("/callback?code=abc&state=xyz").await;
        assert_eq!(done.status(), 200);
        assert!(
            done.text()
                .await
                .unwrap()
                .contains("Authentication complete")
        );
        assert_eq!(
            waiting.await.unwrap().unwrap(),
            format!("{base}/callback?code=abc&state=xyz")
        );
    }
}
