package ferry.mount;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.cache.CacheStatus;
import ferry.cache.ChunkCache;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.local.LocalStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preloading without FUSE, through the local store. */
class PreloadTest {
    @TempDir
    Path folder;

    @Test
    void the_space_measured_before_a_preload_is_the_space_the_preloaded_chunks_take() throws Exception {
        Path objects = folder.resolve("objects");
        Random random = new Random(7);
        for (int size : new int[] {0, 10, 4_000, 4_096, 70_000, 200_001}) {
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            Files.createDirectories(objects.resolve("part"));
            Files.write(objects.resolve("part/" + size + ".bin"), bytes);
        }
        LocalStore store = new LocalStore();
        Location prefix = Location.of(objects).asDirectory();
        MountOptions options = MountOptions.DEFAULTS.withChunkSize(64 * 1024);
        try (ChunkCache cache = ChunkCache.open(folder.resolve("cache"), 1L << 30)) {
            Preload.Need need = Preload.measure(store.list(prefix), cache, options);
            assertThat(need.objects()).isEqualTo(6);
            assertThat(need.bytes()).isEqualTo(10 + 4_000 + 4_096 + 70_000 + 200_001);

            Preload.Report report = Preload.run(store, store.list(prefix), cache, options, 4, false);

            assertThat(report.failures()).isEmpty();
            CacheStatus status = cache.status();
            assertThat(status.chunkCount()).as("1 + 1 + 1 + 2 + 4 chunks of 64 KiB").isEqualTo(9);
            assertThat(need.space()).isEqualTo(status.usedBytes());
        }
    }

    @Test
    void an_object_changed_since_its_dataset_version_fails_saying_to_put_it_back_or_make_a_new_version()
            throws Exception {
        Path objects = Files.createDirectories(folder.resolve("objects"));
        Files.writeString(objects.resolve("a.txt"), "hello");
        LocalStore store = new LocalStore();
        ObjectInfo now = store.list(Location.of(objects).asDirectory()).next();
        // as a manifest recorded it before the object was replaced by another of its size
        ObjectInfo recorded = new ObjectInfo(now.location(), now.size(), now.lastModified(), "0123abcd", null);
        try (ChunkCache cache = ChunkCache.open(folder.resolve("cache"), 1L << 30)) {
            Preload.Report report = Preload.run(store, Preload.of(List.of(recorded)), cache, MountOptions.DEFAULTS,
                    1, true);

            // it said to "reopen it after the metadata TTL, or mount a dataset version", which cannot help
            assertThat(report.failures()).singleElement().asString()
                    .contains(now.location() + " changed in the store after the dataset version recorded it")
                    .contains("create a new version of the dataset").doesNotContain("metadata TTL");
        }
    }
}
