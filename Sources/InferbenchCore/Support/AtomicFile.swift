import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a file whole or not at all: into a temporary file beside it, flushed to the disk,
/// then renamed over the target. A reader sees the old file or the new one, never half of
/// one, and a full disk or a read-only folder is an error here, not a file cut short.
///
/// Foundation's `.atomic` option does the same on most platforms but reports a failed
/// `close` (where some file systems first say the disk is full) inconsistently; this checks
/// every step and says which one failed in words a user acts on.
public enum AtomicFile {
    /// Why a write failed: the file and the system's reason ("No space left on device").
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var reason: String
        /// The errno of the failed step, so callers can tell a full disk from a permission.
        public var code: Int32

        public var description: String { "cannot write \(path): \(reason)" }
        public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
        /// What to do about it, as the start of a sentence.
        public var remedy: String { isDiskFull ? "Free space on that disk" : "Make the folder writable" }
    }

    public static func write(_ data: Data, to url: URL) throws(Failure) {
        let path = url.path
        let temporary = url.deletingLastPathComponent().appending(path: ".\(url.lastPathComponent).\(getpid()).tmp").path
        func fail(_ code: Int32) -> Failure {
            unlink(temporary)
            return Failure(path: path, reason: String(cString: strerror(code)), code: code)
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            throw Failure(path: path, reason: String(cString: strerror(code)), code: code)
        }
        var failed: Failure? = nil
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc_write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = fail(errno)
                    return
                }
                offset += n
            }
        }
        if failed == nil, fsync(fd) != 0 { failed = fail(errno) }
        if close(fd) != 0, failed == nil { failed = fail(errno) }
        if let failed {
            unlink(temporary)
            throw failed
        }
        if rename(temporary, path) != 0 { throw fail(errno) }
        // The rename itself is durable once the folder's entry is on the disk too.
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }

    /// Writes text as UTF-8, whole or not at all.
    public static func write(_ text: String, to url: URL) throws(Failure) {
        try write(Data(text.utf8), to: url)
    }
}

/// `write(2)`: named apart so that it is not confused with the `write` methods above.
@inline(__always)
private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        return Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
        return Musl.write(fd, buffer, count)
    #else
        return Darwin.write(fd, buffer, count)
    #endif
}
