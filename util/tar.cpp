#include "util/tar.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace pallet::util {
namespace {

constexpr size_t k_block = 512;

// Writes `value` as a zero-padded octal field of `width` bytes (the last one NUL).
void put_octal(std::string& header, size_t offset, size_t width, unsigned long long value) {
    const std::string digits = fmt::format("{:0{}o}", value, width - 1);
    header.replace(offset, width - 1, digits.substr(digits.size() - (width - 1)));
}

std::optional<unsigned long long> octal_field(std::string_view header, size_t offset,
                                              size_t width) {
    unsigned long long value = 0;
    bool any = false;
    for (char c : header.substr(offset, width)) {
        if (c >= '0' && c <= '7') {
            value = value * 8 + static_cast<unsigned>(c - '0');
            any = true;
        } else if (c == '\0' || c == ' ') {
            if (any) {
                break;
            }
        } else {
            return std::nullopt;
        }
    }
    return value;
}

}  // namespace

std::string tar_of_directories(const std::vector<TarDirectory>& directories) {
    std::string archive;
    const auto now = static_cast<unsigned long long>(std::time(nullptr));
    for (const auto& directory : directories) {
        std::string header(k_block, '\0');
        const std::string name = directory.path + "/";
        header.replace(0, std::min<size_t>(name.size(), 99), name.substr(0, 99));
        put_octal(header, 100, 8, directory.mode);
        put_octal(header, 108, 8, directory.uid);
        put_octal(header, 116, 8, directory.gid);
        put_octal(header, 124, 12, 0);
        put_octal(header, 136, 12, now);
        header[156] = '5';  // directory
        header.replace(257, 6, std::string("ustar\0", 6));
        header.replace(263, 2, "00");
        header.replace(148, 8, "        ");  // the checksum counts its own field as spaces
        unsigned long long sum = 0;
        for (unsigned char c : header) {
            sum += c;
        }
        header.replace(148, 8, fmt::format("{:06o}", sum) + std::string("\0 ", 2));
        archive += header;
    }
    archive.append(2 * k_block, '\0');
    return archive;
}

std::optional<std::string> first_file_in_tar(std::string_view archive) {
    size_t offset = 0;
    while (offset + k_block <= archive.size()) {
        const std::string_view header = archive.substr(offset, k_block);
        if (header.find_first_not_of('\0') == std::string_view::npos) {
            return std::nullopt;  // end of archive
        }
        const auto size = octal_field(header, 124, 12);
        if (!size) {
            return std::nullopt;
        }
        const size_t data = offset + k_block;
        const char type = header[156];
        if (type == '0' || type == '\0') {
            if (data + *size > archive.size()) {
                return std::nullopt;
            }
            return std::string(archive.substr(data, *size));
        }
        const size_t blocks = (*size + k_block - 1) / k_block;
        if (blocks > (archive.size() - data) / k_block) {
            return std::nullopt;
        }
        offset = data + blocks * k_block;
    }
    return std::nullopt;
}

}  // namespace pallet::util
