// sherpa-onnx's C API, from the header that ships with its library (PyPI sherpa-onnx-core: sherpa_onnx/include;
// Package.swift puts that folder on the include path). Header and library must be the same version (2.0.1).
#include <sherpa-onnx/c-api/c-api.h>
