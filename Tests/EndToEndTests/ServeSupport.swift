import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A running `inferbench serve` on a free loopback port, ready (its workers warm).
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    private(set) var port = 0
    private let lock = NSLock()
    private var errText = ""

    /// Starts `inferbench serve ARGS --port 0` and waits for it to say it is ready.
    init(_ arguments: [String], timeout: TimeInterval = 180) throws {
        process.executableURL = CLI.binary
        process.arguments = ["serve"] + arguments + ["--port", "0"]
        process.currentDirectoryURL = CLI.packageRoot
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "100"
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = err.fileHandleForReading
        DispatchQueue.global().async { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                lock.withLock { errText += String(decoding: data, as: UTF8.self) }
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, process.isRunning {
            if let port = readyPort { self.port = port; return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw ServeError.notReady(stderr)
    }

    enum ServeError: Error { case notReady(String) }

    var stderr: String { lock.withLock { errText } }

    private var readyPort: Int? {
        let text = stderr
        guard text.contains("ready:"), let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) else { return nil }
        return Int(text[range].split(separator: ":").last!)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The worker processes serving (children of the server).
    var workers: [Int32] { CLI.children(of: process.processIdentifier) }

    /// SIGTERM, then its exit status once it has stopped (SIGKILL after `timeout`).
    @discardableResult
    func terminate(timeout: TimeInterval = 60) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// One HTTP exchange with a server under test.
struct HTTPAnswer {
    var status: Int
    var body: Data
    var headers: [String: String]
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
}

enum HTTP {
    static func send(_ method: String, _ url: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
        return HTTPAnswer(status: http.statusCode, body: data, headers: fields)
    }

    static func json(_ object: Any) -> Data { try! JSONSerialization.data(withJSONObject: object) }
}
