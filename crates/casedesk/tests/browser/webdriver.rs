//! Just enough of the W3C WebDriver protocol to drive Chromium through `chromedriver`: a
//! session, navigation, finding elements, typing, clicking, keys, scripts and screenshots.
//! (A few JSON calls over the HTTP client the tests already have, instead of a WebDriver crate.)

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key WebDriver names an element reference by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `chromedriver` on a free port, ended when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    /// Starts `chromedriver` and waits until it answers; `Err` says why it could not.
    pub async fn start(chromedriver: &str) -> Result<Driver, String> {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {chromedriver}: {e}"))?;
        let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/status", driver.url)).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                return Ok(driver);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("chromedriver did not become ready within 20 s".into())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session.
pub struct Browser {
    client: reqwest::Client,
    base: String,
}

/// An element of the current page.
#[derive(Clone)]
pub struct Element(String);

impl Browser {
    /// Opens headless Chromium (`binary`) with a desktop-sized window, saving downloads in
    /// `downloads`.
    pub async fn open(driver: &Driver, binary: &str, downloads: &std::path::Path) -> Result<Browser, String> {
        let client = reqwest::Client::new();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--lang=en-US", "--hide-scrollbars"],
                "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false},
            },
        }}});
        let r = client.post(format!("{}/session", driver.url)).json(&caps).send().await.map_err(|e| e.to_string())?;
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        let id = v["value"]["sessionId"].as_str().ok_or_else(|| format!("Chromium did not start: {v}"))?;
        Ok(Browser { client, base: format!("{}/session/{id}", driver.url) })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.expect("webdriver request").json().await.expect("webdriver JSON");
        assert!(v["value"]["error"].is_null(), "{method} {path}: {}", v["value"]);
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    pub async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args})).await
    }

    /// The first element matching `css`, waiting up to 10 s for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self
                .client
                .post(format!("{}/element", self.base))
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .expect("webdriver request");
            let v: Value = r.json().await.expect("webdriver JSON");
            if let Some(id) = v["value"][ELEMENT].as_str() {
                return Element(id.to_string());
            }
            if Instant::now() >= deadline {
                let page = self.script("return document.documentElement.outerHTML.slice(0, 3000)", json!([])).await;
                panic!("no element {css} on {}: {v}\n{}", self.current_url().await, page.as_str().unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to 15 s until the text of the first `css` element contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found = self
                .script(
                    "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                    json!([css]),
                )
                .await;
            if found.as_str().is_some_and(|t| t.contains(text)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} does not say {text:?} (it says {found}) on {}",
                self.current_url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to 10 s until `script` returns `expected`.
    pub async fn wait_for(&self, script: &str, expected: Value) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.script(script, json!([])).await;
            if got == expected {
                return;
            }
            assert!(Instant::now() < deadline, "{script} returned {got}, not {expected}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, e: &Element) -> String {
        self.call(reqwest::Method::GET, &format!("/element/{}/text", e.0), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn click(&self, e: &Element) {
        self.post(&format!("/element/{}/click", e.0), json!({})).await;
    }

    pub async fn type_into(&self, e: &Element, text: &str) {
        self.post(&format!("/element/{}/value", e.0), json!({"text": text})).await;
    }

    /// Presses and releases a key where the focus is (a page shortcut).
    pub async fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.post("/actions", actions).await;
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height})).await;
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).expect("PNG");
        std::fs::write(path, png).expect("write screenshot");
    }

    pub async fn close(self) {
        let _ = self.client.delete(&self.base).send().await;
    }
}
