#include "services/catalog.h"

#include <gtest/gtest.h>

#include <map>

#include "util/error.h"

namespace pallet::services {
namespace {

std::map<std::string, std::string> vars(const ServiceConfig& service, const Endpoint& endpoint) {
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : service_variables(service, endpoint)) {
        out[key] = value;
    }
    return out;
}

const Endpoint k_endpoint{"pallet-staging-postgres", "staging-2"};

TEST(Catalog, ProvidedPostgresGetsItsOwnRoleAndDatabase) {
    ServiceConfig service{"postgres", "", "pw123", "admin", 0};
    EXPECT_EQ(vars(service, k_endpoint).at("DB_DEFAULT_URL"),
              "postgres://staging_2:pw123@pallet-staging-postgres:5432/staging_2");
    const std::string script = ready_script(service, k_endpoint);
    EXPECT_NE(script.find("NOSUPERUSER"), std::string::npos);
    EXPECT_NE(script.find("CREATE DATABASE \"staging_2\" OWNER \"staging_2\""), std::string::npos);
    EXPECT_NE(script.find("\\connect \"host=127.0.0.1 dbname=staging_2 user=staging_2 "
                          "password=$PALLET_APP_PASSWORD\"\nSELECT 1;"),
              std::string::npos)
        << "the check queries as the application's role";
    EXPECT_EQ(script.rfind("PALLET_ADMIN_PASSWORD='admin'\nPALLET_APP_PASSWORD='pw123'\n", 0), 0u)
        << "fed on stdin, the script sets the passwords first";
    const std::string check = ready_check(service, k_endpoint);
    EXPECT_EQ(check.find("pw123"), std::string::npos) << "the check itself holds no password";
    EXPECT_EQ(check.find("admin'"), std::string::npos);
    EXPECT_NE(check.find("PASSWORD '$PALLET_APP_PASSWORD'"), std::string::npos);
    EXPECT_NE(check.find("<<SQL\nDO \\$\\$"), std::string::npos)
        << "the shell fills the password into psql's input; the DO block's $$ stays as it is";
}

TEST(Catalog, ProvidedVariablesOfEachService) {
    const Endpoint endpoint{"host", "env"};
    auto redis = vars({"redis", "", "", "", 3}, endpoint);
    EXPECT_EQ(redis.at("REDIS_URL"), "redis://host:6379/3");
    EXPECT_EQ(redis.at("REDIS_HOSTS"), "host:6379");
    EXPECT_EQ(redis.at("REDIS_DB_INDEX"), "3");
    auto memcache = vars({"memcache", "", "", "", 0}, endpoint);
    EXPECT_EQ(memcache.at("MEMCACHE_HOSTS"), "host:11211");
    EXPECT_EQ(memcache.at("MEMCACHE_PREFIX"), "env");
    EXPECT_EQ(vars({"rabbitmq", "", "p", "", 0}, endpoint).at("AMQP_URLS"),
              "amqp://env:p@host:5672/env");
    auto smtp = vars({"smtp", "", "", "", 0}, endpoint);
    EXPECT_EQ(smtp.at("EMAIL_HOST"), "host");
    EXPECT_EQ(smtp.at("EMAIL_PORT"), "1025");
    auto es = vars({"elasticsearch", "", "", "", 0}, endpoint);
    EXPECT_EQ(es.at("ELASTICSEARCH_URLS"), "http://host:9200");
    EXPECT_EQ(es.at("ELASTICSEARCH_INDEX_NAME"), "env");
}

TEST(Catalog, ExternalUrlsAreGivenAsTheyAre) {
    auto es = parse_service_arg("elasticsearch=https://a:9200|https://b:9200", "x");
    EXPECT_FALSE(es.provisioned());
    EXPECT_EQ(vars(es, k_endpoint).at("ELASTICSEARCH_URLS"), "https://a:9200|https://b:9200");
    auto syslog = vars(parse_service_arg("syslog=tcp://logs", "x"), k_endpoint);
    EXPECT_EQ(syslog.at("SYSLOG_SERVER"), "logs");
    EXPECT_EQ(syslog.at("SYSLOG_PORT"), "514");
    EXPECT_EQ(syslog.at("SYSLOG_PROTO"), "tcp");
    auto pg = parse_service_arg("postgresql=postgres://u:p@db:5433/app", "x");
    EXPECT_EQ(pg.kind, "postgres");
    EXPECT_EQ(vars(pg, k_endpoint).at("DB_DEFAULT_URL"), "postgres://u:p@db:5433/app");
    EXPECT_EQ(vars(parse_service_arg("memcached=memcache://m1|memcache://m2:1", "x"), k_endpoint)
                  .at("MEMCACHE_HOSTS"),
              "m1:11211|m2:1");
}

TEST(Catalog, ProvidedServicesGetFreshPasswords) {
    auto a = parse_service_arg("postgres", "x");
    auto b = parse_service_arg("postgres", "x");
    EXPECT_TRUE(a.provisioned());
    EXPECT_EQ(a.password.size(), 24u);
    EXPECT_NE(a.password, b.password);
    EXPECT_NE(a.password, a.admin_password);
}

TEST(Catalog, BadInput) {
    EXPECT_THROW(parse_service_arg("mongodb", "x"), UsageError);
    EXPECT_THROW(parse_service_arg("postgres=not-a-url", "x"), UsageError);
    EXPECT_THROW(parse_service_arg("postgres=redis://cache", "x"), UsageError);
    EXPECT_THROW(parse_service_arg("redis=redis://:6379", "x"), UsageError);
    EXPECT_THROW(parse_service_arg("redis=redis://h:port", "x"), UsageError);
    EXPECT_THROW(parse_service_arg("http-proxy", "x"), UsageError) << "a proxy is external only";
}

TEST(Catalog, DropCommandsHoldNoSecret) {
    ServiceConfig service{"postgres", "", "app-secret", "admin-secret", 0};
    const std::string drop = drop_command(service, k_endpoint);
    EXPECT_EQ(drop.find("secret"), std::string::npos);
    EXPECT_NE(drop.find("WHERE rolname = 'staging_2'"), std::string::npos)
        << "every database the role owns goes, those its test runner made too";
    EXPECT_NE(drop.find("DROP ROLE IF EXISTS \"staging_2\""), std::string::npos);
}

TEST(Catalog, OnlyTestRunsMayCreateDatabases) {
    ServiceConfig service{"postgres", "", "app-secret", "admin-secret", 0};
    EXPECT_NE(
        ready_script(service, {"h", "staging", false}).find("ALTER ROLE \"staging\" NOCREATEDB"),
        std::string::npos);
    EXPECT_NE(ready_script(service, {"h", "test-1", true}).find("ALTER ROLE \"test_1\" CREATEDB"),
              std::string::npos);
    EXPECT_EQ(ready_script(service, {"h", "test-1", true}).find(" SUPERUSER"), std::string::npos)
        << "never a superuser";
}

}  // namespace
}  // namespace pallet::services

namespace pallet::services {
namespace {

TEST(Catalog, SharedRedisIsLeasedNotHashed) {
    ServiceConfig redis{"redis", "", "", "", 0};
    const std::string ready = ready_script(redis, {"h", "test-ab12", true, true});
    EXPECT_NE(ready.find("SET pallet:lease:$i 'test_ab12' NX EX 86400"), std::string::npos);
    EXPECT_EQ(leased_db_index("PONG\npallet-db-index=7\n"), 7);
    EXPECT_EQ(leased_db_index("nothing"), 0);
    redis.db_index = 7;
    const std::string drop = drop_command(redis, {"", "test-ab12", true, true});
    EXPECT_NE(drop.find("GET pallet:lease:7)\" = 'test_ab12' ] && r -n 7 FLUSHDB"),
              std::string::npos)
        << "only a lease still the run's is flushed and given back";
    EXPECT_NE(ready_script(redis, {"h", "staging", false, false}).find("ping"), std::string::npos);
}

TEST(Catalog, OnlyPartitionableServersAreShared) {
    for (const char* kind : {"postgres", "redis", "rabbitmq", "elasticsearch"}) {
        EXPECT_TRUE(is_shareable(kind)) << kind;
    }
    for (const char* kind : {"memcache", "smtp", "syslog"}) {
        EXPECT_FALSE(is_shareable(kind)) << kind << ": flush_all and a shared sink cross runs";
    }
}

}  // namespace
}  // namespace pallet::services
