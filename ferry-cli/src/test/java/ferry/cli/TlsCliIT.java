package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.testing.S3TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store behind a private certificate authority, over https: trusted through {@code AWS_CA_BUNDLE} as with the AWS
 * CLI, by both of Ferry's HTTP clients (the JDK's for reads and small writes, the SDK's CRT client for multipart
 * uploads). Each command runs in its own JVM: trust is per process, and a test must not inherit another's.
 */
class TlsCliIT {
    private static S3TestServer server;

    @TempDir
    Path folder;

    @BeforeAll
    static void startServer() {
        server = S3TestServer.builder().tls().start();
        server.createBucket("tls");
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private Map<String, String> environment() {
        Map<String, String> env = new HashMap<>(server.environment());
        env.put("FERRY_HOME", folder.resolve("home").toString());
        env.put("HOME", folder.toString());
        return env;
    }

    /** Runs ferry in a new JVM; returns its exit code, with what it printed in {@code output[0]}. */
    private int ferry(Map<String, String> env, String[] output, String... args) throws Exception {
        Path log = Files.createTempFile(folder, "ferry-", ".log");
        Process process = ChildFerry.start(env, log, args);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("ferry %s finished", String.join(" ", args)).isTrue();
        output[0] = Files.readString(log);
        return process.exitValue();
    }

    @Test
    void copies_up_lists_and_copies_back_over_https_trusting_the_bundle() throws Exception {
        assertThat(server.endpoint().getScheme()).isEqualTo("https");
        Path data = folder.resolve("data");
        Files.createDirectories(data.resolve("small"));
        Random random = new Random(11);
        for (int i = 0; i < 5; i++) {
            byte[] bytes = new byte[3000 + i];
            random.nextBytes(bytes);
            Files.write(data.resolve("small/" + i + ".bin"), bytes);
        }
        byte[] large = new byte[9 * 1024 * 1024 + 3]; // above the default part size: a multipart upload by the SDK
        random.nextBytes(large);
        Files.write(data.resolve("large.bin"), large);
        String[] out = new String[1];

        assertThat(ferry(environment(), out, "cp", data.toString(), "s3://tls/d/")).as(out[0]).isZero();
        assertThat(ferry(environment(), out, "ls", "s3://tls/d/")).as(out[0]).isZero();
        assertThat(out[0]).contains("large.bin", "small/");
        Path back = folder.resolve("back");
        assertThat(ferry(environment(), out, "cp", "s3://tls/d/", back.toString())).as(out[0]).isZero();

        assertThat(Files.readAllBytes(back.resolve("large.bin"))).isEqualTo(large);
        for (int i = 0; i < 5; i++) {
            assertThat(back.resolve("small/" + i + ".bin")).hasSameBinaryContentAs(data.resolve("small/" + i + ".bin"));
        }
    }

    @Test
    void without_the_bundle_the_server_is_refused_with_advice() throws Exception {
        Map<String, String> env = environment();
        env.put("AWS_CA_BUNDLE", ""); // blank counts as unset (the machine's own value would be inherited)
        String[] out = new String[1];

        assertThat(ferry(env, out, "ls", "s3://tls/")).as(out[0]).isEqualTo(1);
        assertThat(out[0]).contains("cannot make a TLS connection to S3 endpoint " + server.endpoint())
                .contains("set AWS_CA_BUNDLE to a PEM file");
    }

    @Test
    void a_bundle_that_is_not_pem_is_refused_naming_the_variable() throws Exception {
        Path notPem = folder.resolve("bundle.txt");
        Files.writeString(notPem, "not a certificate\n");
        Map<String, String> env = environment();
        env.put("AWS_CA_BUNDLE", notPem.toString());
        String[] out = new String[1];

        assertThat(ferry(env, out, "ls", "s3://tls/")).as(out[0]).isEqualTo(2);
        assertThat(out[0]).contains("AWS_CA_BUNDLE names " + notPem).contains("BEGIN CERTIFICATE");

        env.put("AWS_CA_BUNDLE", folder.resolve("missing.pem").toString());
        assertThat(ferry(env, out, "ls", "s3://tls/")).as(out[0]).isEqualTo(2);
        assertThat(out[0]).contains("AWS_CA_BUNDLE names " + folder.resolve("missing.pem"), "cannot be read");
    }
}
