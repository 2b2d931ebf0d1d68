#pragma once

#include <string>
#include <vector>

namespace pallet::util {

// A table printed like docker's own: upper-case headers, columns padded with three spaces.
class TextTable {
  public:
    explicit TextTable(std::vector<std::string> headers) : m_headers(std::move(headers)) {}
    void add_row(std::vector<std::string> cells) { m_rows.push_back(std::move(cells)); }
    std::string render() const;

  private:
    std::vector<std::string> m_headers;
    std::vector<std::vector<std::string>> m_rows;
};

}  // namespace pallet::util
