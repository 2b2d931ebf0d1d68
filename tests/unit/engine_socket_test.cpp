// Completion's read of the engine's socket, against a one-answer engine of this test's own, and
// the DockerCli falling back to `docker image ls` when the socket does not answer.
#include "docker/engine_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "docker/docker_cli.h"
#include "docker/unix_socket.h"
#include "fake_runner.h"
#include "util/error.h"
#include "util/private_dir.h"

namespace pallet::docker {
namespace {

using Args = std::vector<std::string>;

// Takes one connection on `path`, keeps what it was asked and answers `answer` (then closes),
// or answers nothing until the client goes when `answer` is empty.
class OneAnswer {
  public:
    OneAnswer(const std::string& path, std::string answer) : m_answer(std::move(answer)) {
        const auto address = unix_address(path);
        EXPECT_TRUE(address.has_value());
        m_listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
        ::unlink(path.c_str());  // an engine before this one's
        EXPECT_EQ(::bind(m_listener, reinterpret_cast<const sockaddr*>(&*address), sizeof *address),
                  0);
        EXPECT_EQ(::listen(m_listener, 4), 0);
        m_thread = std::thread([this] { serve(); });
    }
    ~OneAnswer() {
        if (m_thread.joinable()) {
            m_thread.join();
        }
        ::close(m_listener);
    }
    // What the engine was asked, once the client is done.
    const std::string& asked() {
        if (m_thread.joinable()) {
            m_thread.join();
        }
        return m_asked;
    }

  private:
    void serve() {
        const int fd = ::accept(m_listener, nullptr, nullptr);
        if (fd < 0) {
            return;
        }
        char chunk[4096];
        ssize_t got = 0;
        while (m_asked.find("\r\n\r\n") == std::string::npos &&
               (got = ::recv(fd, chunk, sizeof chunk, 0)) > 0) {
            m_asked.append(chunk, static_cast<size_t>(got));
        }
        if (m_answer.empty()) {
            while (::recv(fd, chunk, sizeof chunk, 0) > 0) {
            }
        } else {
            ::send(fd, m_answer.data(), m_answer.size(), MSG_NOSIGNAL);
        }
        ::close(fd);
    }

    std::string m_answer;
    std::string m_asked;
    int m_listener = -1;
    std::thread m_thread;
};

constexpr std::chrono::milliseconds k_timeout{2000};

const char* const k_images =
    R"([{"Id":"sha256:1","RepoTags":["app:v2","app:latest"]},)"
    R"({"Id":"sha256:2","RepoTags":null},{"Id":"sha256:3","RepoTags":["<none>:<none>"]},)"
    R"({"Id":"sha256:4","RepoTags":["registry.example:5000/team/web:1.0"]}])";

TEST(UnixSocket, AConnectionOnlyToASocketThatListensAtAPathThatFits) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    EXPECT_EQ(connect_unix(path), -1) << "nothing listens there";
    EXPECT_FALSE(unix_address(std::string(200, 'a')).has_value()) << "longer than sun_path";
    EXPECT_FALSE(unix_address("").has_value());
    EXPECT_EQ(connect_unix("/" + std::string(200, 'a')), -1);
    OneAnswer engine(path, "HTTP/1.0 200 OK\r\n\r\n");
    const int fd = connect_unix(path, SOCK_NONBLOCK);
    ASSERT_GE(fd, 0);
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "not handed to docker processes";
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    ::close(fd);
}

TEST(EngineSocket, AnswersTheBodyOfA200AndAsksWithHttp10) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    OneAnswer engine(path, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[1,2]\n");
    const auto answer = engine_read(path, "/images/json", k_timeout);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, "[1,2]\n");
    EXPECT_EQ(engine.asked(), "GET /images/json HTTP/1.0\r\nHost: docker\r\n\r\n");
}

TEST(EngineSocket, AnythingButA200IsNoList) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    OneAnswer engine(path, "HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"page not found\"}");
    testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{"docker", {}});
    docker.set_engine_socket(path);
    runner.answer(0, "app:v1\n");
    EXPECT_EQ(docker.list_image_tags(), Args{"app:v1"});
    EXPECT_EQ(runner.commands.size(), 1u) << "docker is asked";
}

TEST(EngineSocket, AReadGivesTheStatusOfAnyAnswer) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    OneAnswer engine(path, "HTTP/1.1 404 Not Found\r\n\r\n{\"message\":\"No such image: x\"}");
    const auto answer = engine_read(path, "/images/x/json", k_timeout);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->status, 404);
    EXPECT_EQ(answer->body, "{\"message\":\"No such image: x\"}");
}

TEST(EngineSocket, NotHttpIsNoAnswer) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    OneAnswer engine(path, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    EXPECT_EQ(engine_read(path, "/images/x/json", k_timeout), std::nullopt);
}

TEST(EngineSocket, NoEngineOrNoAnswerInTimeIsNoAnswer) {
    util::PrivateDirectory dir;
    EXPECT_EQ(engine_read(dir.path() + "/nothing.sock", "/images/json", k_timeout).has_value(),
              false);
    const std::string path = dir.path() + "/silent.sock";
    OneAnswer silent(path, "");
    EXPECT_EQ(engine_read(path, "/images/json", std::chrono::milliseconds(100)).has_value(), false);
}

TEST(EngineSocket, TagsAreThoseDockerImageLsLists) {
    EXPECT_EQ(image_tags_from_api(k_images),
              (Args{"app:v2", "app:latest", "registry.example:5000/team/web:1.0"}));
    EXPECT_EQ(image_tags_from_api("[]"), Args{});
    EXPECT_THROW(image_tags_from_api("{\"message\":\"no\"}"), Error);
    EXPECT_THROW(image_tags_from_api("[{\"RepoTags\":"), Error);
}

TEST(EngineSocket, OnlyAUnixAddressIsALocalSocket) {
    EXPECT_EQ(local_engine_socket(""), std::optional<std::string>("/var/run/docker.sock"));
    EXPECT_EQ(local_engine_socket("unix:///run/user/1000/docker.sock"),
              std::optional<std::string>("/run/user/1000/docker.sock"));
    EXPECT_EQ(local_engine_socket("unix://"), std::nullopt);
    EXPECT_EQ(local_engine_socket("tcp://10.0.0.2:2376"), std::nullopt);
    EXPECT_EQ(local_engine_socket("ssh://ops@db"), std::nullopt);
}

TEST(EngineSocket, OnlyPlainNamesGoIntoAnApiPath) {
    for (const char* name : {"app:1", "registry.example:5000/team/web:1.0", "sha256:0123abcd",
                             "app@sha256:0123abcd", "my_app-2"}) {
        EXPECT_TRUE(fits_api_path(name)) << name;
    }
    for (const char* name : {"", "../containers/x", "a/../../b", "/images", "app?x=1", "app#x",
                             "app 1", "app%2F", ".hidden"}) {
        EXPECT_FALSE(fits_api_path(name)) << name;
    }
}

TEST(EngineSocket, AnImageIsReadFromTheSocketWithoutADockerProcess) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    OneAnswer engine(path,
                     "HTTP/1.0 200 OK\r\n\r\n"
                     R"({"Id":"sha256:abc","RepoTags":["shop:2"],)"
                     R"("Config":{"User":"1000","Labels":{"io.pallet.services":"postgres"}}})");
    testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{"docker", {}});
    docker.set_engine_socket(path);
    const auto record = docker.inspect_image("shop:2");
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->id, "sha256:abc");
    EXPECT_EQ(record->user, "1000");
    EXPECT_EQ(record->labels.at("io.pallet.services"), "postgres");
    EXPECT_EQ(engine.asked(), "GET /images/shop:2/json HTTP/1.0\r\nHost: docker\r\n\r\n");
    EXPECT_TRUE(runner.commands.empty());
}

TEST(EngineSocket, AnImageTheEngineDoesNotHaveIsNoneWithoutADockerProcess) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    OneAnswer engine(path, "HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"No such image\"}");
    testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{"docker", {}});
    docker.set_engine_socket(path);
    EXPECT_EQ(docker.inspect_image("shop:9"), std::nullopt);
    EXPECT_TRUE(runner.commands.empty());
}

TEST(EngineSocket, AnyOtherAnswerAboutAnImageIsDockersToGive) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    OneAnswer engine(path, "HTTP/1.0 500 Internal Server Error\r\n\r\n{\"message\":\"disk\"}");
    testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{"docker", {"-H", "unix:///x.sock"}});
    docker.set_engine_socket(path);
    runner.answer(0, R"([{"Id":"sha256:abc","Config":{}}])");
    const auto record = docker.inspect_image("shop:2");
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->id, "sha256:abc");
    ASSERT_EQ(runner.commands.size(), 1u);
    EXPECT_EQ(runner.commands[0].argv,
              (Args{"docker", "-H", "unix:///x.sock", "image", "inspect", "shop:2"}));
}

TEST(EngineSocket, ImagesAreReadFromTheSocketWithoutADockerProcess) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    OneAnswer engine(path, std::string("HTTP/1.0 200 OK\r\n\r\n") + k_images);
    testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{"docker", {}});
    docker.set_engine_socket(path);
    EXPECT_EQ(docker.list_image_tags(),
              (Args{"app:v2", "app:latest", "registry.example:5000/team/web:1.0"}));
    EXPECT_TRUE(runner.commands.empty());
}

TEST(EngineSocket, LabelFiltersAreAnEscapedQuery) {
    EXPECT_EQ(label_filters_query({"io.pallet.phase=config", "io.pallet.managed=true"}),
              "filters=%7B%22label%22%3A%7B%22io.pallet.managed%3Dtrue%22%3Atrue%2C%22io.pallet."
              "phase%3Dconfig%22%3Atrue%7D%7D");
}

TEST(EngineSocket, LabelValuesAndConfigNamesFromTheEnginesLists) {
    EXPECT_EQ(container_label_values_from_api(
                  R"([{"Labels":{"io.pallet.env":"prod"}},{"Labels":{"io.pallet.env":""}},)"
                  R"({"Labels":{}},{"Labels":null},{},7,{"Labels":{"io.pallet.env":"staging"}}])",
                  "io.pallet.env"),
              (Args{"prod", "staging"}));
    EXPECT_THROW(container_label_values_from_api(R"({"message":"no"})", "x"), Error);
    EXPECT_EQ(config_names_from_api(
                  R"([{"Spec":{"Name":"pallet-a-config-1"}},{"Spec":{}},{"Spec":7},{},"x"])"),
              Args{"pallet-a-config-1"});
    EXPECT_THROW(config_names_from_api("[{"), Error);
}

TEST(EngineSocket, EnvironmentsAreReadFromTheSocketWithoutADockerProcess) {
    util::PrivateDirectory dir;
    const std::string path = dir.path() + "/engine.sock";
    const Args filters = {"io.pallet.managed=true", "io.pallet.phase=config"};
    testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{"docker", {}});
    docker.set_engine_socket(path);
    {
        OneAnswer engine(path,
                         "HTTP/1.0 200 OK\r\n\r\n[{\"Labels\":{\"io.pallet.env\":\"prod\"}}]");
        EXPECT_EQ(docker.container_label_values(filters, "io.pallet.env"), Args{"prod"});
        EXPECT_EQ(engine.asked(), "GET /containers/json?all=1&" + label_filters_query(filters) +
                                      " HTTP/1.0\r\nHost: docker\r\n\r\n");
    }
    {
        OneAnswer engine(path,
                         "HTTP/1.0 503 Service Unavailable\r\n\r\n{\"message\":\"This node "
                         "is not a swarm manager.\"}");
        EXPECT_EQ(docker.config_names(filters), Args{}) << "no manager: no swarm environments";
        EXPECT_EQ(engine.asked(), "GET /configs?" + label_filters_query(filters) +
                                      " HTTP/1.0\r\nHost: docker\r\n\r\n");
    }
    EXPECT_TRUE(runner.commands.empty());
    {
        OneAnswer engine(path, "HTTP/1.0 500 Internal Server Error\r\n\r\n{}");
        runner.answer(0, "pallet-a-config-1\n");
        EXPECT_EQ(docker.config_names(filters), Args{"pallet-a-config-1"}) << "docker is asked";
    }
    ASSERT_EQ(runner.commands.size(), 1u);
    EXPECT_EQ(runner.commands[0].argv,
              (Args{"docker", "config", "ls", "--format", "{{.Name}}", "--filter",
                    "label=io.pallet.managed=true", "--filter", "label=io.pallet.phase=config"}));
}

TEST(EngineSocket, ImagesComeFromDockerWhenTheSocketDoesNotAnswer) {
    util::PrivateDirectory dir;
    testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{"docker", {"-H", "unix:///x.sock"}});
    docker.set_engine_socket(dir.path() + "/nothing.sock");
    runner.answer(0, "app:v1\n<none>:<none>\n");
    EXPECT_EQ(docker.list_image_tags(), Args{"app:v1"});
    ASSERT_EQ(runner.commands.size(), 1u);
    EXPECT_EQ(runner.commands[0].argv, (Args{"docker", "-H", "unix:///x.sock", "image", "ls",
                                             "--format", "{{.Repository}}:{{.Tag}}"}));
}

}  // namespace
}  // namespace pallet::docker
