#if canImport(Darwin)
import Darwin
import Dispatch

/// Apple platforms: `phys_footprint` from task_info(TASK_VM_INFO) is what jetsam kills an iOS app on.
/// The kernel's `ledger_phys_footprint_peak` is a lifetime peak with no reset, so a later, smaller variant would
/// inherit an earlier variant's peak. So the run's peak is sampled every 10 ms from the reset until it is read
/// (plus a reading at each end); the lifetime peak is reported beside it as `phys_footprint_lifetime_peak_gb`.
extension MemorySampler {
    var platformSource: String { "phys_footprint" }

    static func vmInfo() -> task_vm_info_data_t? {
        var info = task_vm_info_data_t()
        var count = mach_msg_type_number_t(MemoryLayout<task_vm_info_data_t>.size / MemoryLayout<natural_t>.size)
        let kr = withUnsafeMutablePointer(to: &info) { ptr in
            ptr.withMemoryRebound(to: integer_t.self, capacity: Int(count)) {
                task_info(mach_task_self_, task_flavor_t(TASK_VM_INFO), $0, &count)
            }
        }
        return kr == KERN_SUCCESS ? info : nil
    }

    func platformCurrentBytes() -> Int64? {
        guard let info = MemorySampler.vmInfo() else { return nil }
        return Int64(info.phys_footprint)
    }

    func platformResetPeak() {
        lock.lock()
        samplingTimer?.cancel()
        windowPeakBytes = platformCurrentBytes() ?? -1
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now(), repeating: .milliseconds(10))
        timer.setEventHandler { [weak self] in self?.sample() }
        samplingTimer = timer
        lock.unlock()
        timer.resume()
    }

    func sample() {
        guard let now = platformCurrentBytes() else { return }
        lock.lock()
        if now > windowPeakBytes { windowPeakBytes = now }
        lock.unlock()
    }

    /// The peak of the window; reading it ends the window (the sampling timer stops until the next reset).
    func platformPeakBytes() -> Int64? {
        sample()
        lock.lock()
        defer { lock.unlock() }
        samplingTimer?.cancel()
        samplingTimer = nil
        return windowPeakBytes >= 0 ? windowPeakBytes : nil
    }

    func platformExtras() -> [(String, JSONValue)] {
        guard let info = MemorySampler.vmInfo(), info.ledger_phys_footprint_peak > 0 else { return [] }
        return [("phys_footprint_lifetime_peak_gb", .double(Double(info.ledger_phys_footprint_peak) / MemorySampler.bytesPerGiB))]
    }
}
#endif
