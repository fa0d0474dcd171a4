import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// espeak-ng's C library, opened at run time from a path. The Python harness phonemizes with the libespeak-ng that
/// espeakng-loader ships (kokoro-onnx's tokenizer sets it on phonemizer's EspeakWrapper); opening that very file
/// (and its espeak-ng-data) is what makes the Swift phonemes the Python ones. No header ships with it, so the few
/// functions are looked up by name, with the signatures of espeak-ng 1.52's `speak_lib.h`:
///   int espeak_Initialize(espeak_AUDIO_OUTPUT output, int buflength, const char *path, int options);
///   const espeak_VOICE **espeak_ListVoices(espeak_VOICE *voice_spec);
///   espeak_ERROR espeak_SetVoiceByName(const char *name);
///   const char *espeak_TextToPhonemes(const void **textptr, int textmode, int phonememode);
///   const char *espeak_Info(const char **path_data);
/// espeak-ng keeps global state: one `Espeak` per process, used from one thread at a time.
public final class Espeak {
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `espeak_VOICE` (speak_lib.h) starts with three `const char *`: name, languages, identifier.
    static func voiceField(_ voice: UnsafeRawPointer, _ index: Int) -> UnsafePointer<CChar>? {
        voice.load(fromByteOffset: index * MemoryLayout<UnsafeRawPointer>.stride, as: UnsafePointer<CChar>?.self)
    }

    typealias InitializeFn = @convention(c) (Int32, Int32, UnsafePointer<CChar>?, Int32) -> Int32
    typealias ListVoicesFn = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutablePointer<UnsafeRawPointer?>?
    typealias SetVoiceByNameFn = @convention(c) (UnsafePointer<CChar>?) -> Int32
    typealias TextToPhonemesFn = @convention(c) (UnsafeMutablePointer<UnsafeRawPointer?>?, Int32, Int32)
        -> UnsafePointer<CChar>?
    typealias InfoFn = @convention(c) (UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> UnsafePointer<CChar>?

    public let libraryPath: String
    public let dataPath: String
    /// espeak-ng's version, e.g. "1.52.0".
    public let version: String
    private let handle: UnsafeMutableRawPointer
    private let listVoices: ListVoicesFn
    private let setVoiceByName: SetVoiceByNameFn
    private let textToPhonemesFn: TextToPhonemesFn
    private var currentLanguage: String?

    public init(library: String, data: String) throws {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw LoadError(description: "cannot open espeak-ng library \(library): \(reason)")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let pointer = dlsym(handle, name) else {
                throw LoadError(description: "\(library) has no \(name): not an espeak-ng library")
            }
            return unsafeBitCast(pointer, to: type)
        }
        let initialize = try symbol("espeak_Initialize", as: InitializeFn.self)
        let info = try symbol("espeak_Info", as: InfoFn.self)
        listVoices = try symbol("espeak_ListVoices", as: ListVoicesFn.self)
        setVoiceByName = try symbol("espeak_SetVoiceByName", as: SetVoiceByNameFn.self)
        textToPhonemesFn = try symbol("espeak_TextToPhonemes", as: TextToPhonemesFn.self)
        // phonemizer's EspeakAPI: espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS = 2, 0, data_path, 0) <= 0 is a failure.
        guard initialize(2, 0, data, 0) > 0 else {
            throw LoadError(description: "espeak_Initialize failed with data \(data): is it espeak-ng-data?")
        }
        self.handle = handle
        libraryPath = library
        dataPath = data
        version = info(nil).map { String(cString: $0) }.map { String($0.split(separator: " ").first ?? "") } ?? "?"
    }

    /// phonemizer's `EspeakWrapper.set_voice(code)`: the first listed voice whose first language is `code`,
    /// mbrola voices skipped.
    public func setLanguage(_ code: String) throws {
        if currentLanguage == code { return }
        guard let list = listVoices(nil) else { throw LoadError(description: "espeak_ListVoices returned nothing") }
        var identifier: String?
        var index = 0
        while let voice = list[index] {
            index += 1
            guard let languages = Espeak.voiceField(voice, 1), let id = Espeak.voiceField(voice, 2) else { continue }
            let ident = String(cString: id)
            if ident.replacingOccurrences(of: "\\", with: "/").hasPrefix("mb/") { continue }
            if String(cString: languages + 1) == code {  // the first byte is the language's priority
                identifier = ident
                break
            }
        }
        guard let name = identifier else { throw LoadError(description: "espeak-ng has no voice for language '\(code)'") }
        guard setVoiceByName(name) == 0 else { throw LoadError(description: "espeak-ng failed to load voice \(name)") }
        currentLanguage = code
    }

    /// phonemizer's `EspeakWrapper.text_to_phonemes(text)` for espeak-ng > 1.48.3 without tie: IPA with '_' between
    /// phonemes (phonememode `'_' << 8 | 2`), UTF-8 input (textmode 1), one clause per call until the pointer is
    /// NULL, the non-empty results joined by spaces.
    public func textToPhonemes(_ text: String) -> String {
        var parts: [String] = []
        let phonemeMode = Int32(UInt8(ascii: "_")) << 8 | 2
        text.withCString { start in
            var pointer: UnsafeRawPointer? = UnsafeRawPointer(start)
            while pointer != nil {
                if let out = textToPhonemesFn(&pointer, 1, phonemeMode) {
                    let s = String(cString: out)
                    if !s.isEmpty { parts.append(s) }
                }
            }
        }
        return parts.joined(separator: " ")
    }
}
