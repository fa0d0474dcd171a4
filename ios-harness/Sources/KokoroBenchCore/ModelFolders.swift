import Foundation

/// Where the app finds Kokoro's files, looked up each time they are asked for (a folder copied over with Finder or
/// the Files app while the app runs is seen by the next request, no restart needed), and the typed error that names
/// where to copy a missing one. Plain Foundation, so Linux tests cover it; the MLX engine (App/) uses it.
///
/// Layout (one folder per variant, as the mlx-community repos are):
///   <root>/Kokoro-82M-<variant>/config.json, kokoro-v1_0.safetensors, voices/<voice>.safetensors
public struct ModelFolders {
    public static let variantOrder = ["bf16", "8bit", "6bit", "4bit"]
    /// Folders searched in order, first match wins (the app: Documents/models only).
    public let roots: [URL]
    /// How a user reaches roots[0], for messages ("Documents/models").
    public let userPath: String

    public init(roots: [URL], userPath: String) {
        self.roots = roots
        self.userPath = userPath
    }

    public static func folderName(_ variant: String) -> String { "Kokoro-82M-\(variant)" }

    /// The variants with a folder holding config.json, in `variantOrder`, with their folders.
    public func variants() -> [(variant: String, folder: URL)] {
        ModelFolders.variantOrder.compactMap { v in folder(v).map { (v, $0) } }
    }

    public func folder(_ variant: String) -> URL? {
        roots.map { $0.appendingPathComponent(ModelFolders.folderName(variant)) }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
    }

    /// Voices of one variant folder (voices/<name>.safetensors), sorted.
    public static func voices(in folder: URL) -> [String] {
        let dir = folder.appendingPathComponent("voices")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".safetensors") }.map { String($0.dropLast(".safetensors".count)) }.sorted()
    }

    /// The voices every variant found has (the intersection): a voice copied into one variant folder only is not
    /// offered for the others, so a matrix over variants never meets it missing halfway through.
    public func voices() -> [String] {
        let perVariant = variants().map { Set(ModelFolders.voices(in: $0.folder)) }
        guard let first = perVariant.first else { return [] }
        return Array(perVariant.dropFirst().reduce(first) { $0.intersection($1) }).sorted()
    }

    /// Voices present in some variant folders but not all, with the variants that lack each (for messages).
    public func partialVoices() -> [String: [String]] {
        let found = variants().map { ($0.variant, Set(ModelFolders.voices(in: $0.folder))) }
        let all = found.reduce(Set<String>()) { $0.union($1.1) }
        var partial: [String: [String]] = [:]
        for voice in all {
            let lacking = found.filter { !$0.1.contains(voice) }.map { $0.0 }
            if !lacking.isEmpty { partial[voice] = lacking }
        }
        return partial
    }

    /// The folder of `variant`, or `missing_file` naming where to copy it.
    public func require(_ variant: String) throws -> URL {
        guard ModelFolders.variantOrder.contains(variant) else {
            throw HarnessError(.unknownVariant, "variant '\(variant)' is not one of "
                + ModelFolders.variantOrder.joined(separator: ", "))
        }
        if let url = folder(variant) { return url }
        throw missingVariant(variant)
    }

    public func missingVariant(_ variant: String) -> HarnessError {
        let name = ModelFolders.folderName(variant)
        return HarnessError(.missingFile, "variant '\(variant)' has no folder: copy mlx-community/\(name) "
            + "(config.json, kokoro-v1_0.safetensors, voices/) to \(userPath)/\(name) with Finder (the phone > Files > "
            + "Kokoro Bench) or the Files app (On My iPhone > Kokoro Bench), then run again; no restart is needed")
    }

    public func missingVoice(_ voice: String, variant: String) -> HarnessError {
        let name = ModelFolders.folderName(variant)
        return HarnessError(.missingFile, "voice '\(voice)' is not in variant '\(variant)': copy "
            + "voices/\(voice).safetensors from mlx-community/\(name) to \(userPath)/\(name)/voices/")
    }
}

/// The grapheme-to-phoneme data mlx-audio-swift's Kokoro text processor reads, which it would otherwise DOWNLOAD
/// from Hugging Face the first time a language is prepared. The app checks it is on the phone before preparing, so
/// nothing is downloaded, ever: a missing folder is `missing_file` naming where to copy it.
///
/// Paths and rules are those of mlx-audio-swift 4266f98 (App/project.yml):
/// - all under `<hub cache>/mlx-audio/<repo with / as _>` (ModelUtils.swift:77-80,
///   KokoroMultilingualProcessor.swift:135-140); the hub cache is HF_HUB_CACHE (swift-huggingface
///   CacheLocationProvider.swift:164-170), which the app points at Documents/huggingface/hub;
/// - English (en-us, en-gb, en*): beshkenadze/kitten-tts-g2p. What the English G2P really reads is
///   `<us|gb>_bart.safetensors`, `<us|gb>_bart_config.json` (EnglishFallbackNetwork.swift:92-115) and
///   `<us|gb>_gold.json`, `<us|gb>_silver.json` (DataResourcesUtil.swift:6-27); British falls back to the us_ file
///   of each when its gb_ one is absent. The repository ships no `config.json`, yet the library's cache check
///   (ModelUtils.swift:83-108) only reuses a folder holding a non-empty *.safetensors AND a config.json that parses,
///   and downloads again otherwise (:122). So `prepareEnglishFolder` writes the `{}` the check parses (nothing reads
///   its content) once the real files are there: the library then uses the copied folder instead of downloading;
/// - ja, hi, cmn, zh: beshkenadze/g2p-multilingual-byT5-tiny-mlx with a *.safetensors
///   (KokoroMultilingualProcessor.swift:36-41, 186-191);
/// - es fr it pt pt-br de ru ar cs fa nl sv sw: beshkenadze/kokoro-ipa-lexicons/<lang>_lexicon.tsv (:46-60, 161-168).
public enum G2PData {
    public static let englishRepo = "beshkenadze/kitten-tts-g2p"
    public static let neuralRepo = "beshkenadze/g2p-multilingual-byT5-tiny-mlx"
    public static let lexiconRepo = "beshkenadze/kokoro-ipa-lexicons"
    static let neuralLanguages: Set<String> = ["ja", "hi", "cmn", "zh"]
    static let lexiconFiles: [String: String] = [
        "es": "es_lexicon.tsv", "fr": "fr_lexicon.tsv", "it": "it_lexicon.tsv", "pt": "pt_lexicon.tsv",
        "pt-br": "pt_lexicon.tsv", "de": "de_lexicon.tsv", "ru": "ru_lexicon.tsv", "ar": "ar_lexicon.tsv",
        "cs": "cs_lexicon.tsv", "fa": "fa_lexicon.tsv", "nl": "nl_lexicon.tsv", "sv": "sv_lexicon.tsv",
        "sw": "sw_lexicon.tsv",
    ]

    public static func folder(repo: String, hubCache: URL) -> URL {
        hubCache.appendingPathComponent("mlx-audio").appendingPathComponent(repo.replacingOccurrences(of: "/", with: "_"))
    }

    /// nil when the data for `language` is on disk (or the language needs none), else `missing_file` saying what
    /// to copy where. `userHubPath` is how the user reaches `hubCache` ("Documents/huggingface/hub").
    public static func missing(language: String, hubCache: URL, userHubPath: String) -> HarnessError? {
        let lang = language.lowercased()
        let fm = FileManager.default
        func nonEmptyFile(in dir: URL, ext: String) -> Bool {
            let files = (try? fm.contentsOfDirectory(at: dir, includingPropertiesForKeys: [.fileSizeKey])) ?? []
            return files.contains {
                $0.pathExtension == ext && ((try? $0.resourceValues(forKeys: [.fileSizeKey]))?.fileSize ?? 0) > 0
            }
        }
        func error(_ repo: String, _ what: String) -> HarnessError {
            let name = repo.replacingOccurrences(of: "/", with: "_")
            return HarnessError(.missingFile, "the \(language) text processor's data is not on the phone, and "
                + "nothing is downloaded during a benchmark: copy \(what) of the Hugging Face repo \(repo) to "
                + "\(userHubPath)/mlx-audio/\(name)/ with Finder or the Files app, then run again")
        }
        if lang.hasPrefix("en") {
            let dir = folder(repo: englishRepo, hubCache: hubCache)
            let lacking = missingEnglishFiles(british: lang.contains("gb"), in: dir)
            return lacking.isEmpty ? nil : error(englishRepo, "the files " + lacking.joined(separator: ", "))
        }
        if neuralLanguages.contains(lang) {
            return nonEmptyFile(in: folder(repo: neuralRepo, hubCache: hubCache), ext: "safetensors") ? nil
                : error(neuralRepo, "the files (*.safetensors, *.json)")
        }
        if let file = lexiconFiles[lang] {
            let path = folder(repo: lexiconRepo, hubCache: hubCache).appendingPathComponent(file).path
            return fm.fileExists(atPath: path) ? nil : error(lexiconRepo, file)
        }
        return nil  // a language the processor does not know: it throws its own error when asked
    }

    /// The English G2P's files, in the order a message lists them.
    static let englishFiles = ["bart.safetensors", "bart_config.json", "gold.json", "silver.json"]

    /// The files of the English G2P that are missing or empty in `dir` (names as in the repository). British
    /// voices read gb_<file>, else us_<file>, as mlx-audio-swift does.
    public static func missingEnglishFiles(british: Bool, in dir: URL) -> [String] {
        func present(_ name: String) -> Bool {
            let size = (try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path))?[.size]
            return ((size as? NSNumber)?.intValue ?? 0) > 0
        }
        return englishFiles.compactMap { file in
            if present("us_\(file)") || (british && present("gb_\(file)")) { return nil }
            return british ? "gb_\(file) (or us_\(file))" : "us_\(file)"
        }
    }

    /// Makes the copied English folder one mlx-audio-swift reuses instead of downloading: writes `config.json` =
    /// `{}` when it is absent or does not parse (ModelUtils.swift:91-103 only checks that it parses). Call after
    /// `missing(language:...)` returned nil. Returns whether it wrote the file.
    @discardableResult
    public static func prepareEnglishFolder(hubCache: URL) throws -> Bool {
        let config = folder(repo: englishRepo, hubCache: hubCache).appendingPathComponent("config.json")
        if let data = try? Data(contentsOf: config), (try? JSONSerialization.jsonObject(with: data)) != nil {
            return false
        }
        try Data("{}".utf8).write(to: config, options: .atomic)
        return true
    }
}
