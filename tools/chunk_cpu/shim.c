/* Thread CPU time around sherpa-onnx's SherpaOnnxOfflineTtsGenerateWithConfig, for tools/chunk_instructions.py --cpu
 * (GitHub issue 24). Put in front of the real function (LD_PRELOAD for the Swift CLI; a ctypes function in place of
 * the library's for the Python harness), it calls the real one, found in the already loaded SHIM_SHERPA_LIB, and
 * appends to SHIM_OUT one line per call: "engine NS" (the calling thread's CPU nanoseconds inside the call) and,
 * from the second call on, "between NS" (the calling thread's CPU nanoseconds since the previous call returned: the
 * harness's own work between two chunks). Its own file writes fall outside both intervals. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef const void *(*generate_fn)(const void *, const char *, const void *, void *, void *);
static generate_fn real_generate;
static long long last_exit = -1;

static long long thread_cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

const void *SherpaOnnxOfflineTtsGenerateWithConfig(const void *tts, const char *text, const void *config,
                                                   void *callback, void *arg) {
    if (!real_generate) {
        void *library = dlopen(getenv("SHIM_SHERPA_LIB"), RTLD_NOW | RTLD_NOLOAD);
        real_generate = library ? (generate_fn)dlsym(library, "SherpaOnnxOfflineTtsGenerateWithConfig") : NULL;
        if (!real_generate) {
            fprintf(stderr, "chunk_cpu shim: %s is not loaded or has no SherpaOnnxOfflineTtsGenerateWithConfig\n",
                    getenv("SHIM_SHERPA_LIB"));
            abort();
        }
    }
    long long enter = thread_cpu_ns();
    long long between = last_exit >= 0 ? enter - last_exit : -1;
    const void *audio = real_generate(tts, text, config, callback, arg);
    long long engine = thread_cpu_ns() - enter;
    FILE *out = fopen(getenv("SHIM_OUT"), "a");
    if (out) {
        if (between >= 0) fprintf(out, "between %lld\n", between);
        fprintf(out, "engine %lld\n", engine);
        fclose(out);
    }
    last_exit = thread_cpu_ns();
    return audio;
}
