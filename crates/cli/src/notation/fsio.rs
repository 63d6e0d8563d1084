//! File writes with notation's permissions: directories are created `0700`, files written
//! `0600` (notation's `osutil.WriteFile`, `osutil.CopyToDir` and notation-go's
//! `config.save`). Files are replaced atomically (written beside, then renamed).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Creates `dir` and its missing parents with mode `0700`.
pub fn create_dir_private(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))
}

/// Writes `data` to `path` with mode `0600`, creating parent directories `0700`.
pub fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_private(parent)?;
    }
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".signet-{}.tmp", std::process::id()));
    let tmp = Path::new(&tmp_name);
    let result = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Whether `path` exists without following a final symlink.
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}
