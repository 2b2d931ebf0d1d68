#include "util/text_table.h"

#include <algorithm>

namespace pallet::util {

std::string TextTable::render() const {
    std::vector<size_t> widths(m_headers.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    };
    measure(m_headers);
    for (const auto& row : m_rows) {
        measure(row);
    }
    std::string out;
    auto emit = [&](const std::vector<std::string>& row) {
        std::string line;
        for (size_t i = 0; i < widths.size(); ++i) {
            const std::string cell = i < row.size() ? row[i] : "";
            line += cell;
            if (i + 1 < widths.size()) {
                line.append(widths[i] - cell.size() + 3, ' ');
            }
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        out += line;
        out += '\n';
    };
    emit(m_headers);
    for (const auto& row : m_rows) {
        emit(row);
    }
    return out;
}

}  // namespace pallet::util
