//! Secret files: which files hold secrets, and the secret values in a project's dotenv files.

use std::path::Path;

use crate::{KnownSecret, judge};

/// The kind of a value found in a project's secret file.
pub const SECRET_FILE_VALUE: &str = "secret-file-value";

/// A dotenv file bigger than this is not read for values.
const MAX_DOTENV_BYTES: u64 = 256 << 10;

/// Whether `path` names a file that holds secrets: dotenv files (`.env`, `.env.production`, `prod.env`,
/// not `.env.example` and the like), private keys and keystores (`*.pem`, `*.key`, `*.p12`, `*.pfx`,
/// `id_rsa`, `id_ed25519`, not `*.pub`), registry and login files (`.npmrc`, `.netrc`, `.pypirc`,
/// `.pgpass`, `.git-credentials`, `.htpasswd`), cloud and cluster credentials (`.aws/credentials`,
/// `.kube/config`, `kubeconfig`, `.docker/config.json`) and credential JSON files (`credentials.json`,
/// `client_secret_*.json`, `service-account*.json`).
#[must_use]
pub fn is_secret_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    if is_example(&name) {
        return false;
    }
    if is_dotenv_name(&name) {
        return true;
    }
    let ends = |s: &str| name.ends_with(s);
    if ends(".pub") {
        return false;
    }
    if [".pem", ".key", ".p12", ".pfx", ".keystore", ".jks", ".ppk"]
        .iter()
        .any(|e| ends(e))
    {
        return true;
    }
    if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        return true;
    }
    if [
        ".npmrc",
        ".netrc",
        "_netrc",
        ".pypirc",
        ".pgpass",
        ".git-credentials",
        ".htpasswd",
        "kubeconfig",
    ]
    .contains(&name.as_str())
    {
        return true;
    }
    let tail = |parent: &str, file: &str| {
        name == file
            && path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|p| p.eq_ignore_ascii_case(parent))
    };
    if tail(".aws", "credentials") || tail(".kube", "config") || tail(".docker", "config.json") {
        return true;
    }
    ends(".json")
        && (name.contains("credential")
            || name.starts_with("client_secret")
            || name.starts_with("service-account")
            || name.starts_with("service_account"))
}

/// A dotenv file's name: `.env`, `.env.<stage>`, `<stage>.env`.
#[must_use]
pub fn is_dotenv_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let stage_env = name
        .rsplit_once('.')
        .is_some_and(|(stage, ext)| !stage.is_empty() && ext == "env");
    !is_example(&name) && (name == ".env" || name.starts_with(".env.") || stage_env)
}

/// An example or template of a secret file (`.env.example`, `.env.sample`, `secrets.template.json`),
/// which documents keys and holds no secret.
#[must_use]
pub fn is_example(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "example", "sample", "template", ".dist", "defaults", "schema",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// The secret values of the dotenv files at the root of `project` and in its `config/` folder: values of
/// secret-named keys that look like secrets, and long random values of any key. At most 20 files of at
/// most 256 KiB each are read; links are followed only to regular files.
#[must_use]
pub fn project_values(project: &Path) -> Vec<KnownSecret> {
    let mut out = Vec::new();
    let mut files = 0;
    for dir in [project.to_path_buf(), project.join("config")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_str().is_some_and(is_dotenv_name) {
                continue;
            }
            let path = entry.path();
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() || meta.len() > MAX_DOTENV_BYTES || files >= 20 {
                continue;
            }
            files += 1;
            out.extend(dotenv_secrets(&path));
        }
    }
    out
}

/// The secret values of one dotenv file (see [`project_values`]).
fn dotenv_secrets(path: &Path) -> Vec<KnownSecret> {
    let Ok(iter) = dotenvy::from_path_iter(path) else {
        return Vec::new();
    };
    iter.flatten()
        .filter(|(key, value)| {
            if judge::secret_name(key).is_some() {
                judge::assigned_secret(value, key)
            } else {
                judge::random_secret(value)
            }
        })
        .map(|(_, value)| KnownSecret {
            value,
            kind: SECRET_FILE_VALUE.to_owned(),
        })
        .collect()
}

/// The value of `key` in the dotenv file `path`, or why it cannot be had. The reason never quotes the
/// file: a line that does not parse may hold a secret, and the reason reaches the model (the parser's
/// own message quotes the whole line).
pub fn dotenv_value(path: &Path, key: &str) -> Result<String, String> {
    let why = |e: dotenvy::Error, entry: usize| match e {
        dotenvy::Error::LineParse(_, at) => format!(
            "{}: entry {entry} does not parse (at character {at}); its text is not shown, as it may \
             hold a secret",
            path.display()
        ),
        dotenvy::Error::Io(io) => format!("{}: {io}", path.display()),
        dotenvy::Error::EnvVar(_) => {
            format!("{}: a variable it refers to is not set", path.display())
        }
        _ => format!("{}: it does not parse as a dotenv file", path.display()),
    };
    let iter = dotenvy::from_path_iter(path).map_err(|e| why(e, 0))?;
    for (n, item) in iter.enumerate() {
        let (k, v) = item.map_err(|e| why(e, n + 1))?;
        if k == key {
            return Ok(v);
        }
    }
    Err(format!("{}: no key `{key}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 35, item 19: the reason a file source fails never shows the line, which may hold a secret.
    #[test]
    fn a_line_that_does_not_parse_is_not_quoted() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("s.env");
        std::fs::write(&f, "OK=1\nBAD KEY=hunter2-Secret-Value\nT=x\n").unwrap();
        let err = dotenv_value(&f, "T").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("entry 2 does not parse"), "{err}");
    }

    #[test]
    fn secret_files_by_name() {
        for p in [
            ".env",
            ".env.local",
            ".env.production",
            "prod.env",
            "certs/server.pem",
            "tls.key",
            "id_rsa",
            "id_ed25519",
            ".npmrc",
            ".netrc",
            "/home/u/.aws/credentials",
            "/home/u/.kube/config",
            "/home/u/.docker/config.json",
            "gcp-credentials.json",
            "client_secret_123.json",
            "service-account.json",
            "store.p12",
        ] {
            assert!(is_secret_file(Path::new(p)), "{p}");
        }
        for p in [
            ".env.example",
            ".env.sample",
            ".env.template",
            "id_rsa.pub",
            "config.json",
            "src/env.rs",
            "environment.ts",
            "README.md",
            "kube/config",
            "keys.go",
            "monkey.py",
        ] {
            assert!(!is_secret_file(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn dotenv_values_of_secret_keys_and_random_values_only() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join(".env"),
            "NODE_ENV=development\nPORT=3000\nDB_PASSWORD=\"s3cr3t-db-pass\"\nexport STRIPE_KEY=sk_live_51HqLyjWDarjtT1zdp7dcXk\n\
             SESSION_SEED=Zq8Vx2Lm9Pw4Rt7Yk3Bn6Hd1\nAPI_URL=https://api.example.com\n",
        )
        .unwrap();
        std::fs::write(
            t.path().join(".env.example"),
            "DB_PASSWORD=real-looking-Pa55word\n",
        )
        .unwrap();
        let mut values: Vec<String> = project_values(t.path())
            .into_iter()
            .map(|k| k.value)
            .collect();
        values.sort();
        assert_eq!(
            values,
            [
                "Zq8Vx2Lm9Pw4Rt7Yk3Bn6Hd1",
                "s3cr3t-db-pass",
                "sk_live_51HqLyjWDarjtT1zdp7dcXk"
            ]
        );
        assert_eq!(
            dotenv_value(&t.path().join(".env"), "PORT").unwrap(),
            "3000"
        );
        assert!(
            dotenv_value(&t.path().join(".env"), "NOPE")
                .unwrap_err()
                .contains("no key `NOPE`")
        );
    }
}
