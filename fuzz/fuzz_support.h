#pragma once

// Shared by the fuzz targets: input as text, and a way to stop on a broken property.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace pallet::fuzz {

inline std::string text(const uint8_t* data, size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Splits on NUL bytes: several arguments from one input.
inline std::vector<std::string> words(const std::string& input) {
    std::vector<std::string> out;
    std::string current;
    for (char c : input) {
        if (c == '\0') {
            out.push_back(current);
            current.clear();
        } else {
            current += c;
        }
    }
    out.push_back(current);
    return out;
}

// A property that does not hold is a crash the fuzzer reports with its input.
[[noreturn]] inline void broken(const char* property) {
    std::fprintf(stderr, "property broken: %s\n", property);
    std::abort();
}

}  // namespace pallet::fuzz
