package ferry.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LocationTest {
    @Test
    void s3_location_has_bucket_and_key() {
        Location location = Location.of("s3://bucket/images/cat.png");
        assertThat(location.scheme()).isEqualTo("s3");
        assertThat(location.bucket()).isEqualTo("bucket");
        assertThat(location.path()).isEqualTo("images/cat.png");
        assertThat(location.isDirectory()).isFalse();
        assertThat(location.name()).isEqualTo("cat.png");
        assertThat(location).hasToString("s3://bucket/images/cat.png");
    }

    @Test
    void bucket_root_is_a_directory() {
        assertThat(Location.of("s3://bucket").isDirectory()).isTrue();
        assertThat(Location.of("s3://bucket/").isDirectory()).isTrue();
        assertThat(Location.of("s3://bucket").resolve("a")).isEqualTo(Location.of("s3://bucket/a"));
    }

    @Test
    void plain_and_file_paths_are_local_absolute_and_normalized() {
        assertThat(Location.of("/data/x/../y/")).isEqualTo(Location.of("file:///data/y/"));
        assertThat(Location.of("/data/y/").isDirectory()).isTrue();
        assertThat(Location.of("relative/dir").toPath())
                .isEqualTo(Path.of("relative/dir").toAbsolutePath().normalize());
        assertThat(Location.of("file:///tmp/a").toPath()).isEqualTo(Path.of("/tmp/a"));
    }

    @Test
    void resolve_and_relativize_are_inverse() {
        Location prefix = Location.of("s3://b/data");
        Location child = prefix.resolve("train/0001.png");
        assertThat(child).hasToString("s3://b/data/train/0001.png");
        assertThat(prefix.asDirectory().relativize(child)).isEqualTo("train/0001.png");
    }

    @Test
    void relativize_refuses_a_location_outside_the_prefix() {
        assertThatThrownBy(() -> Location.of("s3://b/data/").relativize(Location.of("s3://b/other/x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("s3://b/other/x");
    }

    @Test
    void bad_locations_are_refused_with_a_message_naming_them() {
        assertThatThrownBy(() -> Location.of("gs://bucket/x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gs://bucket/x")
                .hasMessageContaining("s3://");
        assertThatThrownBy(() -> Location.of("s3:///key"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no bucket");
        assertThatThrownBy(() -> Location.of("s3://BAD_bucket!/x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'BAD_bucket!' in 's3://BAD_bucket!/x' is not a bucket name");
        assertThat(Location.of("s3://Legacy_Bucket.2/x").bucket()).isEqualTo("Legacy_Bucket.2");
        assertThatThrownBy(() -> Location.of("file://relative/x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("absolute");
        assertThatThrownBy(() -> Location.of("a\0b")).hasMessageContaining("NUL");
        assertThatThrownBy(() -> Location.of("")).hasMessageContaining("empty");
    }
}
