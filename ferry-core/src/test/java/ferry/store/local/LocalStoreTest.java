package ferry.store.local;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.store.Location;
import ferry.store.ObjectListing;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only the local store does: its temporary files. */
class LocalStoreTest {
    @TempDir
    Path folder;

    @Test
    void listing_removes_temporary_files_of_dead_writers_and_keeps_live_ones() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path abandoned = folder.resolve(".data.bin." + gone.pid() + ".1f2e" + LocalStore.TEMP_SUFFIX);
        Path live = folder.resolve(".other.bin." + ProcessHandle.current().pid() + ".3c4d" + LocalStore.TEMP_SUFFIX);
        Files.writeString(abandoned, "half");
        Files.writeString(live, "being written");
        Files.writeString(folder.resolve("real.bin"), "whole");

        ObjectListing listing = new LocalStore().list(Location.of(folder).asDirectory());
        assertThat(listing.next().location().name()).isEqualTo("real.bin");
        assertThat(listing.hasNext()).isFalse();

        assertThat(abandoned).doesNotExist();
        assertThat(live).exists();
    }
}
