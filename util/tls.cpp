#include "util/tls.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "util/error.h"
#include "util/strings.h"

namespace pallet::util {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

Bio memory(const std::string& text) {
    return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

Cert read_certificate(const std::string& chain_pem) {
    auto bio = memory(chain_pem);
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!cert) {
        throw Error("the certificate file holds no PEM certificate (BEGIN CERTIFICATE)");
    }
    return cert;
}

std::time_t to_time(const ASN1_TIME* time) {
    struct tm parsed {};
    if (ASN1_TIME_to_tm(time, &parsed) != 1) {
        return 0;
    }
    return timegm(&parsed);
}

}  // namespace

CertificateInfo certificate_info(const std::string& chain_pem) {
    const Cert cert = read_certificate(chain_pem);
    CertificateInfo info;
    info.not_after = to_time(X509_get0_notAfter(cert.get()));
    auto* names = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
    if (names != nullptr) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
            if (name->type == GEN_DNS) {
                const auto* data = ASN1_STRING_get0_data(name->d.dNSName);
                info.names.emplace_back(reinterpret_cast<const char*>(data),
                                        static_cast<size_t>(ASN1_STRING_length(name->d.dNSName)));
            }
        }
        GENERAL_NAMES_free(names);
    }
    if (info.names.empty()) {
        char common[256] = {};
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, common,
                                      sizeof common) > 0) {
            info.names.emplace_back(common);
        }
    }
    return info;
}

CertificateInfo check_certificate(const std::string& chain_pem, const std::string& key_pem,
                                  const std::string& domain, std::time_t now) {
    const Cert cert = read_certificate(chain_pem);
    CertificateInfo info = certificate_info(chain_pem);
    auto bio = memory(key_pem);
    const Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!key) {
        throw Error("the key file holds no unencrypted PEM private key (BEGIN PRIVATE KEY)");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        throw Error("the key is not the certificate's (they do not match)");
    }
    if (X509_check_host(cert.get(), domain.data(), domain.size(), 0, nullptr) != 1) {
        throw Error(
            fmt::format("the certificate is for {}, not {}", join(info.names, ", "), domain));
    }
    if (info.not_after <= now) {
        throw Error(fmt::format("the certificate expired on {}",
                                utc_time(info.not_after, "%Y-%m-%d %H:%M UTC")));
    }
    if (X509_cmp_time(X509_get0_notBefore(cert.get()), &now) > 0) {
        throw Error("the certificate is not valid yet");
    }
    return info;
}

}  // namespace pallet::util
