package ferry.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What the test server does beyond s3proxy, so that it behaves as S3 does. */
class S3TestServerTest {
    @Test
    void a_write_cut_off_by_a_stop_leaves_nothing_behind_and_finished_objects_stay() throws Exception {
        try (S3TestServer server = S3TestServer.newServer()) {
            server.createBucket("cut");
            server.putObject("cut", "data/kept.bin", "whole".getBytes(StandardCharsets.UTF_8));
            // What s3proxy leaves when a PUT is cut off: its temporary file, named after the key, without metadata.
            Path leftover = server.folder().resolve("cut/data/half.bin-" + UUID.randomUUID());
            Files.writeString(leftover, "ha");

            server.stop();

            assertThat(leftover).doesNotExist();
            assertThat(server.objectFile("cut", "data/kept.bin")).hasContent("whole");
        }
    }
}
