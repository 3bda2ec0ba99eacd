package ferry.train.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.store.Location;
import ferry.store.Stores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sources read before staging: what a bad manifest or prefix is told, channel by name. */
class ChannelPlanTest {
    @TempDir
    Path folder;

    private final Stores stores = Stores.fromEnvironment(Map.of());

    @AfterEach
    void close() throws Exception {
        stores.close();
    }

    private ChannelPlan plan(String text, S3Source.DataType type, List<String> attributes) throws Exception {
        Path manifest = folder.resolve("source");
        Files.writeString(manifest, text);
        S3Source source = new S3Source(Location.of(manifest), type, S3Source.Distribution.FullyReplicated,
                attributes);
        return ChannelPlan.of(new ChannelSpec("train", "File", null, "None", "None", null, source), stores, 0, 1, 4);
    }

    @Test
    void a_manifest_that_is_not_one_is_refused_with_its_expected_shape() {
        assertThatThrownBy(() -> plan("{not json", S3Source.DataType.ManifestFile, List.of()))
                .isInstanceOf(ChannelException.class)
                .hasMessageStartingWith("channel 'train': the manifest file file://" + folder.resolve("source")
                        + " is not valid JSON");
        assertThatThrownBy(() -> plan("[\"a\", \"b\"]", S3Source.DataType.ManifestFile, List.of()))
                .hasMessageContaining("is not a manifest file: a manifest file is a JSON list whose first element is"
                        + " {\"prefix\": \"s3://bucket/base/\"}");
        assertThatThrownBy(() -> plan("[{\"prefix\": \"file://" + folder + "/\"}]", S3Source.DataType.ManifestFile,
                List.of())).hasMessageContaining("lists no objects");
        assertThatThrownBy(() -> plan("[{\"prefix\": \"file://" + folder + "/\"}, \"missing.bin\"]",
                S3Source.DataType.ManifestFile, List.of()))
                .hasMessageContaining("1 object(s) named by file://" + folder.resolve("source")
                        + " cannot be read; the first: file://" + folder.resolve("missing.bin") + " does not exist");
    }

    @Test
    void an_augmented_manifest_line_without_a_chosen_attribute_is_named_by_number() {
        assertThatThrownBy(() -> plan("{\"source-ref\": \"file:///x\", \"class\": 1}\n{\"class\": 2}\n",
                S3Source.DataType.AugmentedManifestFile, List.of("class", "source-ref")))
                .hasMessageContaining("line 2 of augmented manifest file://" + folder.resolve("source")
                        + " has no attribute 'source-ref'");
        assertThatThrownBy(() -> plan("[1]\n", S3Source.DataType.AugmentedManifestFile, List.of("a")))
                .hasMessageContaining("line 1 of augmented manifest").hasMessageContaining("is not a JSON object");
        assertThatThrownBy(() -> plan("\n\n", S3Source.DataType.AugmentedManifestFile, List.of("a")))
                .hasMessageContaining("has no lines");
    }

    @Test
    void a_prefix_that_names_one_object_delivers_that_object() throws Exception {
        ChannelPlan plan = plan("one object", S3Source.DataType.S3Prefix, List.of());
        assertThat(plan.objects()).extracting(SourceObject::key).containsExactly("source");
        assertThat(plan.bytes()).isEqualTo("one object".length());
    }
}
