#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listening socket bound to 127.0.0.1 only: the harness is never reachable from the network (usbmux
/// reaches an iPhone app on loopback; the host connects to the CLI on loopback).
public final class TCPListener {
    public let fd: Int32
    public let port: UInt16

    public struct SocketError: Error, CustomStringConvertible {
        public let what: String
        public let errno: Int32
        public var description: String {
            "\(what) failed: \(String(cString: strerror(errno))) (errno \(errno))"
                + (errno == EADDRINUSE ? "; another process uses this port: pick another one" : "")
        }
    }

    /// Bind 127.0.0.1:`loopbackPort` (0 picks a free port; read `port`).
    public init(loopbackPort: UInt16) throws {
        #if canImport(Glibc)
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let s = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard s >= 0 else { throw SocketError(what: "socket()", errno: errno) }
        var yes: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = loopbackPort.bigEndian
        addr.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian  // 127.0.0.1
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            close(s)
            throw SocketError(what: "bind(127.0.0.1:\(loopbackPort))", errno: e)
        }
        guard listen(s, 4) == 0 else {
            let e = errno
            close(s)
            throw SocketError(what: "listen()", errno: e)
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        fd = s
        port = UInt16(bigEndian: actual.sin_port)
    }

    /// Wait for the next client; its connected socket.
    public func accept() throws -> Int32 {
        while true {
            #if canImport(Glibc)
            let c = Glibc.accept(fd, nil, nil)
            #else
            let c = Darwin.accept(fd, nil, nil)
            #endif
            if c >= 0 {
                #if canImport(Darwin)
                // A write to a peer that has gone must be EPIPE, not the process-killing SIGPIPE (see
                // FileDescriptorLineSink; Linux gets the same from MSG_NOSIGNAL there).
                var yes: Int32 = 1
                setsockopt(c, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
                #endif
                return c
            }
            if errno == EINTR { continue }
            throw SocketError(what: "accept()", errno: errno)
        }
    }

    deinit { close(fd) }
}
