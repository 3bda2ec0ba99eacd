package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.testing.S3TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** kill -9 in the middle of a multipart upload: the next run aborts the orphaned upload and completes. */
class MultipartCrashIT {
    @TempDir
    Path folder;

    @Test
    void an_upload_interrupted_by_a_crash_is_aborted_by_the_next_run_never_leaked() throws Exception {
        Path src = folder.resolve("src");
        Files.createDirectories(src);
        byte[] bytes = new byte[40 << 20]; // five 8 MiB parts
        new Random(3).nextBytes(bytes);
        Files.write(src.resolve("big.bin"), bytes);
        try (S3TestServer server = S3TestServer.newServer();
                S3AsyncClient s3 = S3AsyncClient.builder()
                        .endpointOverride(server.endpoint())
                        .region(Region.of(S3TestServer.REGION))
                        .forcePathStyle(true)
                        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                        .credentialsProvider(StaticCredentialsProvider.create(
                                AwsBasicCredentials.create(S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)))
                        .build()) {
            server.createBucket("crash");
            Map<String, String> env = new HashMap<>(server.environment());
            env.put("FERRY_HOME", folder.resolve("home").toString());
            env.put("FERRY_S3_UPLOAD_CUTOFF", "5MiB"); // so this 40 MiB file goes as a multipart upload
            Path uploads = folder.resolve("home/uploads");

            Process first = ChildFerry.start(env, folder.resolve("first.log"), "sync", src.toString(), "s3://crash/d/",
                    "--bwlimit", "4MB/s");
            waitForUploadRecord(uploads);
            first.destroyForcibly(); // SIGKILL, half way through the parts
            first.waitFor();
            assertThat(s3.listMultipartUploads(b -> b.bucket("crash")).join().uploads()).hasSize(1);

            CliRun second = CliRun.run(env, "sync", src.toString(), "s3://crash/d/");
            assertThat(second.exitCode).as(second.toString()).isZero();

            assertThat(s3.listMultipartUploads(b -> b.bucket("crash")).join().uploads()).isEmpty();
            try (Stream<Path> left = Files.list(uploads)) {
                assertThat(left).isEmpty();
            }
            assertThat(s3.getObject(b -> b.bucket("crash").key("d/big.bin"), AsyncResponseTransformer.toBytes()).join()
                    .asByteArray()).isEqualTo(bytes);
        }
    }

    /** Waits (bounded) until the child has recorded its multipart upload. */
    private static void waitForUploadRecord(Path uploads) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(uploads)) {
                try (Stream<Path> entries = Files.list(uploads)) {
                    if (entries.anyMatch(p -> p.toString().endsWith(".upload"))) {
                        return;
                    }
                }
            }
            Thread.sleep(20); // polling for the condition, bounded by the deadline
        }
        throw new AssertionError("no multipart upload was recorded within 60 s");
    }
}
