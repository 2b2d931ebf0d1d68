#pragma once

#include <ctime>
#include <string>
#include <vector>

namespace pallet::util {

// What a PEM certificate chain says of itself: its first certificate's names and validity.
struct CertificateInfo {
    std::vector<std::string> names;  // subject alternative DNS names, else the common name
    std::time_t not_after = 0;
};

// Reads the first certificate of a PEM chain. Throws an Error that says what is wrong (never a
// key's bytes) when it is no certificate.
CertificateInfo certificate_info(const std::string& chain_pem);

// Checks a certificate chain and its key for `domain`: both parse, the key is the certificate's,
// the certificate names the domain (wildcards as browsers take them) and has not expired at
// `now`. Throws an Error with one line saying what is wrong.
CertificateInfo check_certificate(const std::string& chain_pem, const std::string& key_pem,
                                  const std::string& domain, std::time_t now);

}  // namespace pallet::util
