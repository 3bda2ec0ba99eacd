package ferry.s3;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.store.local.WriterMark;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which recorded multipart uploads a new store aborts as left behind. */
class UploadJournalTest {
    private static final String HERE = "http://127.0.0.1:9000";

    @TempDir
    Path folder;

    private Path entry(String name, String endpoint) throws Exception {
        Path file = folder.resolve(name + ".upload");
        String lines = "bucket\n" + name + "\nupload-" + name + "\n" + (endpoint == null ? "" : endpoint + "\n");
        Files.writeString(file, lines);
        return file;
    }

    @Test
    void only_uploads_of_gone_writers_on_this_host_at_this_endpoint_are_orphans() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long me = ProcessHandle.current().pid();
        UploadJournal journal = new UploadJournal(folder, HERE);
        Path mine = journal.record("bucket", "mine", "upload-mine");
        entry(gone.pid() + "@" + WriterMark.HOST + "-0001", HERE);
        entry(me + "@" + WriterMark.HOST + "-zzzzzzzz0002", HERE); // a predecessor that had this pid
        entry(gone.pid() + "-0003", null); // written before entries named their host and endpoint
        entry(gone.pid() + "@0badc0de-0004", HERE); // another host's, on a shared Ferry home
        entry(gone.pid() + "@" + WriterMark.HOST + "-0005", "http://10.0.0.9:9000"); // another endpoint's

        assertThat(journal.orphans()).extracting(UploadJournal.Orphan::uploadId).containsExactlyInAnyOrder(
                "upload-" + gone.pid() + "@" + WriterMark.HOST + "-0001",
                "upload-" + me + "@" + WriterMark.HOST + "-zzzzzzzz0002",
                "upload-" + gone.pid() + "-0003");
        assertThat(mine).exists();
    }

    @Test
    void an_upload_of_a_key_with_line_breaks_is_found_whole_once_its_writer_is_gone() throws Exception {
        UploadJournal journal = new UploadJournal(folder, HERE);
        String key = "notes/a\nb\r\nc %0A+ d.txt";
        Path recorded = journal.record("bucket", key, "upload-lines");
        // As left by an earlier process that had this pid (its token differs): gone.
        Files.move(recorded, folder.resolve(ProcessHandle.current().pid() + "@" + WriterMark.HOST
                + "-zzzzzzzz0006.upload"));

        assertThat(journal.orphans()).singleElement().satisfies(orphan -> {
            assertThat(orphan.bucket()).isEqualTo("bucket");
            assertThat(orphan.key()).isEqualTo(key);
            assertThat(orphan.uploadId()).isEqualTo("upload-lines");
        });
    }

    @Test
    void an_entry_its_writer_died_before_moving_into_place_is_an_orphan_too() throws Exception {
        UploadJournal journal = new UploadJournal(folder, HERE);
        String gone = ProcessHandle.current().pid() + "@" + WriterMark.HOST + "-zzzzzzzz";
        // Killed between writing the entry and moving it into place: the upload was started, and its id is here.
        Path recorded = journal.record("bucket", "data/big.bin", "upload-unmoved");
        Files.move(recorded, folder.resolve(gone + "0007.upload.tmp"));
        // Killed while writing it: no id to abort with, so only the file goes.
        Path cutShort = Files.writeString(folder.resolve(gone + "0008.upload.tmp"), "bucket\ndata/");

        assertThat(journal.orphans()).singleElement().satisfies(orphan -> {
            assertThat(orphan.key()).isEqualTo("data/big.bin");
            assertThat(orphan.uploadId()).isEqualTo("upload-unmoved");
        });
        assertThat(cutShort).doesNotExist();
    }
}
