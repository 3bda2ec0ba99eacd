package ferry.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.store.Location;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Closing the last S3 store stops the AWS CRT's event-loop threads, so a process can exit without waiting on them; a
 * closed store refuses requests.
 */
class S3StoreCloseTest {
    /** The names the kernel knows this process's threads by (the CRT's native threads are not all Java threads). */
    private static List<String> threadNames() throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    names.add(Files.readString(task.resolve("comm")).strip());
                } catch (IOException ended) {
                    // the thread ended while we looked
                }
            }
        }
        return names;
    }

    private static boolean eventLoopRunning() throws IOException {
        return threadNames().stream().anyMatch(name -> name.startsWith("AwsEventLoop"));
    }

    private static void awaitNoEventLoop() throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (eventLoopRunning() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @Test
    void closing_the_last_store_stops_the_crt_event_loop_threads() throws Exception {
        try (S3TestServer server = S3TestServer.newServer()) {
            Location bucket = server.createBucket("closing");
            awaitNoEventLoop(); // of stores other tests closed
            S3Store store = new S3Store(S3Config.fromEnvironment(server.environment()));
            assertThat(store.list(bucket).hasNext()).isFalse();
            assertThat(eventLoopRunning()).as("reads go over the JDK's client: no CRT").isFalse();
            store.delete(bucket.resolve("absent"));
            assertThat(eventLoopRunning()).as("the CRT serves the SDK's requests on its event-loop threads").isTrue();

            store.close();

            awaitNoEventLoop();
            assertThat(threadNames()).noneMatch(name -> name.startsWith("AwsEventLoop"));
        }
    }

    @Test
    void a_closed_store_refuses_reads_and_listings_saying_it_is_closed() throws Exception {
        try (S3TestServer server = S3TestServer.newServer()) {
            Location bucket = server.createBucket("closed");
            S3Store store = new S3Store(S3Config.fromEnvironment(server.environment()));
            assertThat(store.list(bucket).hasNext()).isFalse();
            store.close();

            assertThatThrownBy(() -> store.openStream(bucket.resolve("a"))).hasMessageContaining("store is closed");
            assertThatThrownBy(() -> store.list(bucket).hasNext()).hasMessageContaining("store is closed");
            assertThatThrownBy(() -> store.stat(bucket.resolve("a"))).hasMessageContaining("store is closed");
        }
    }
}
