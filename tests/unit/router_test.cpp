// The router's nginx configuration and the reading of health answers.
#include <gtest/gtest.h>

#include "orchestrator/router_nginx.h"
#include "phases/edge.h"

namespace pallet::phases {
namespace {

using orchestrator::parse_health_answer;
using orchestrator::router_config;

state::Environment staging() {
    state::Environment env;
    env.name = "staging";
    env.site_protocol = "https";
    return env;
}

TEST(RouterConfig, OwnsTheWholeConfiguration) {
    const std::string config = router_config(staging(), {{"pallet-staging-serve-1"}, ""});
    EXPECT_NE(config.find("events {"), std::string::npos);
    EXPECT_NE(config.find("http {"), std::string::npos);
    EXPECT_NE(config.find("types {"), std::string::npos) << "no mime.types of the image";
    EXPECT_NE(config.find("server pallet-staging-serve-1:8000"), std::string::npos);
    EXPECT_NE(config.find("X-Forwarded-Proto https"), std::string::npos);
    EXPECT_NE(config.find("pid /tmp/pallet-nginx.pid"), std::string::npos);
    for (const char* image_file : {"conf.d", "sites-enabled", "mime.types", "/var/log/nginx"}) {
        EXPECT_EQ(config.find(image_file), std::string::npos) << image_file;
    }
}

TEST(RouterConfig, InMaintenanceEveryRequestButStaticGetsThePage) {
    state::Environment env = staging();
    env.maintenance = true;
    env.maintenance_message = "Back at 5 <b>\"soon\"</b>; costs $var {x} \\ 'ok' & more";
    const std::string config = router_config(env, {{"pallet-staging-serve-1"}, ""});
    EXPECT_NE(config.find("return 503 \""), std::string::npos) << config;
    EXPECT_NE(config.find("add_header Retry-After 120 always;"), std::string::npos);
    EXPECT_NE(config.find("location /static/"), std::string::npos) << "its CSS still loads";
    EXPECT_EQ(config.find("proxy_pass"), std::string::npos) << "nothing reaches the replicas";
    const std::string page = orchestrator::maintenance_page(env.maintenance_message);
    EXPECT_NE(page.find("Back at 5 &#60;b&#62;&#34;soon&#34;&#60;/b&#62;&#59; costs &#36;var "
                        "&#123;x&#125; &#92; &#39;ok&#39; &#38; more"),
              std::string::npos)
        << "text, for HTML and for nginx's string: " << page;
    EXPECT_EQ(page.find('"'), std::string::npos) << "it goes between nginx's double quotes";
    EXPECT_NE(orchestrator::maintenance_page("").find("down for maintenance"), std::string::npos)
        << "a default message";
}

TEST(RouterConfig, NothingToServeYetIsStillValid) {
    EXPECT_NE(router_config(staging(), {}).find("server 127.0.0.1:9 down;"), std::string::npos)
        << "nginx refuses an empty upstream";
}

TEST(RouterConfig, ASwarmServiceIsResolvedThroughTheSwarmsDns) {
    const std::string config = router_config(staging(), {{}, "pallet-staging-serve-ab12"});
    EXPECT_NE(config.find("resolver 127.0.0.11 valid=1s"), std::string::npos)
        << "asked again as tasks come and go";
    EXPECT_NE(config.find("set $pallet_app pallet-staging-serve-ab12;"), std::string::npos);
    EXPECT_NE(config.find("proxy_pass http://$pallet_app:8000;"), std::string::npos)
        << "a variable: resolved while nginx runs, not once at load";
    EXPECT_NE(config.find("proxy_connect_timeout 2s;"), std::string::npos)
        << "a task on a lost node passes the request on";
    EXPECT_EQ(config.find("upstream pallet_app"), std::string::npos);
}

TEST(HealthAnswer, BelowFourHundredIsHealthy) {
    auto ok =
        parse_health_answer("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n");
    EXPECT_TRUE(ok.healthy);
    EXPECT_EQ(ok.status, 200);
    auto redirect = parse_health_answer("HTTP/1.1 302 Found\r\nLocation: /login\r\n\r\n");
    EXPECT_TRUE(redirect.healthy) << "a redirect to a login page is a live application";
    auto bad = parse_health_answer(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<h1>Bad Request (400)</h1>\n"
        "DisallowedHost\n");
    EXPECT_FALSE(bad.healthy);
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.evidence.find("HTTP/1.1 400 Bad Request"), std::string::npos);
    EXPECT_NE(bad.evidence.find("| <h1>Bad Request (400)</h1>"), std::string::npos)
        << "the first lines of the body";
    EXPECT_EQ(bad.evidence.find("Content-Type"), std::string::npos) << "not the headers";
}

TEST(HealthAnswer, NoHttpIsNotHealthy) {
    auto refused = parse_health_answer("bash: connect: Connection refused\n");
    EXPECT_FALSE(refused.healthy);
    EXPECT_EQ(refused.status, 0);
    EXPECT_NE(refused.evidence.find("Connection refused"), std::string::npos);
    EXPECT_FALSE(parse_health_answer("").healthy);
    EXPECT_FALSE(parse_health_answer("HTTP/1.1 abc\r\n\r\n").healthy);
}

TEST(EdgeConfig, EachDomainGoesToItsRouterAndAnyOtherHostGets404) {
    const std::string config =
        edge_config({"127.0.0.1:8080", "127.0.0.1:8443"},
                    {{"shop", "shop.example.org", {}, "127.0.0.1:41001", "", "", false},
                     {"blog", "blog.example.org", {}, "", "", "", false}});
    EXPECT_NE(config.find("listen 127.0.0.1:8080 default_server reuseport;\n        server_name "
                          "_;\n        return 404;"),
              std::string::npos)
        << "a host name no environment has never reaches another environment's site";
    EXPECT_NE(config.find("server 127.0.0.1:41001 max_fails=0;"), std::string::npos);
    EXPECT_NE(config.find("server_name shop.example.org;\n        location / {\n            "
                          "proxy_pass http://pallet_site_1;"),
              std::string::npos);
    EXPECT_NE(config.find("proxy_set_header Host $http_host;"), std::string::npos)
        << "the router and the app see the user's Host";
    EXPECT_NE(
        config.find("server_name blog.example.org;\n        location / {\n            return 503;"),
        std::string::npos)
        << "an environment whose router does not run answers 503, not another site";
    EXPECT_EQ(config.find("include /etc/nginx"), std::string::npos)
        << "nothing of the image's configuration";
    EXPECT_NE(config.find("listen 127.0.0.1:8443 ssl http2 default_server reuseport;\n        "
                          "ssl_reject_handshake on;"),
              std::string::npos)
        << "no TLS handshake for a name without a certificate";
    EXPECT_EQ(config.find("ssl_certificate "), std::string::npos) << "no site has a certificate";
}

TEST(EdgeConfig, AnHttpsSiteWithItsCertificateRedirectsHttpAndServesTls) {
    const std::string config = edge_config({"80", "127.0.0.1:8443"}, {{"shop",
                                                                       "shop.example.org",
                                                                       {"www.shop.example.org"},
                                                                       "127.0.0.1:41001",
                                                                       "CERT",
                                                                       "KEY",
                                                                       true}});
    EXPECT_NE(config.find("return 308 https://$host:8443$request_uri;"), std::string::npos);
    EXPECT_EQ(config.find("acme-challenge"), std::string::npos)
        << "the user's own certificate: no ACME";
    EXPECT_EQ(config.find("Strict-Transport-Security"), std::string::npos)
        << "HSTS only when asked for";
    EXPECT_NE(config.find("listen 127.0.0.1:8443 ssl http2;\n        server_name shop.example.org "
                          "www.shop.example.org;\n"
                          "        ssl_certificate /pallet/tls/shop.crt;\n        "
                          "ssl_certificate_key /pallet/tls/shop.key;\n"
                          "        location / {\n            proxy_pass http://pallet_site_1;"),
              std::string::npos);
    EXPECT_EQ(config.find("CERT"), std::string::npos)
        << "certificates and keys are files, never in the configuration";
    EXPECT_NE(config.find("ssl_protocols TLSv1.2 TLSv1.3;"), std::string::npos);
    EXPECT_NE(edge_config({"80", "443"},
                          {{"shop", "shop.example.org", {}, "127.0.0.1:1", "C", "K", true}})
                  .find("return 308 https://$host$request_uri;"),
              std::string::npos)
        << "no port in redirects to 443";
}

TEST(EdgeConfig, AnAcmeSiteAnswersChallengesOnHttpAndHstsIsOptional) {
    EdgeSite site{"shop", "shop.example.org", {}, "127.0.0.1:41001", "CERT", "KEY", true, true,
                  true};
    const std::string config = edge_config({"80", "443"}, {site});
    EXPECT_NE(config.find("listen 80;\n        server_name shop.example.org;\n"
                          "        location ^~ /.well-known/acme-challenge/ {\n"
                          "            root /pallet/acme/webroot;\n"
                          "            default_type text/plain;\n"
                          "        }\n"
                          "        location / {\n"
                          "            return 308 https://$host$request_uri;"),
              std::string::npos)
        << "HTTP-01 challenges are answered from the client's files, everything else redirects";
    EXPECT_NE(
        config.find("ssl_certificate_key /pallet/tls/shop.key;\n"
                    "        add_header Strict-Transport-Security \"max-age=31536000\" always;\n"),
        std::string::npos);
    site.certificate.clear();
    site.key.clear();
    const std::string before = edge_config({"80", "443"}, {site});
    EXPECT_NE(before.find("            root /pallet/acme/webroot;\n            default_type "
                          "text/plain;\n        }\n"
                          "        location / {\n            proxy_pass http://pallet_site_1;"),
              std::string::npos)
        << "before its first certificate: challenges answered, the site on HTTP";
    EXPECT_EQ(before.find("Strict-Transport-Security"), std::string::npos)
        << "no HSTS without HTTPS";
    site.https_only = false;
    site.certificate = "CERT";
    EXPECT_EQ(edge_config({"80", "443"}, {site}).find("Strict-Transport-Security"),
              std::string::npos)
        << "no HSTS for a site whose SITE_PROTOCOL is http";
}

}  // namespace
}  // namespace pallet::phases
