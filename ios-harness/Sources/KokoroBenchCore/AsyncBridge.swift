import Dispatch

/// Runs an async call to completion from the harness's synchronous engine interface (TTSEngine calls block; an
/// engine over an async library, e.g. mlx-audio-swift's `KokoroModel.generate`, waits here).
///
/// The task runs at the caller's priority: the caller blocks until it is done, so a task left at the default
/// priority while a higher-priority queue waits for it is a priority inversion, and the generation could be
/// scheduled behind other work while its time is being measured. Call it from a dispatch queue or thread, never
/// from the main thread (it blocks) and never from inside a Swift concurrency task (it would hold a cooperative
/// thread while it waits).
public enum AsyncBridge {
    final class Box<T>: @unchecked Sendable {
        var result: Result<T, Error>?
    }

    public static func wait<T>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let priority = Task.currentPriority  // outside a task: derived from the calling thread's QoS
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        Task.detached(priority: priority) {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        guard let result = box.result else {
            throw HarnessError(.internal, "an async engine call finished without a result")
        }
        return try result.get()
    }
}
