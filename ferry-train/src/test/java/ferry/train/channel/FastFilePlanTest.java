package ferry.train.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.dataset.Manifest;
import ferry.store.Location;
import ferry.store.Stores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a FastFile channel mounts, decided before the job starts (no FUSE needed here: nothing is mounted). */
class FastFilePlanTest {
    @TempDir
    Path folder;

    private final Stores stores = Stores.fromEnvironment(Map.of());
    private Path data;

    @BeforeEach
    void setUp() throws Exception {
        data = folder.resolve("data");
        for (int i = 0; i < 9; i++) {
            Path file = data.resolve("c" + (i % 2) + "/part-" + i + ".rec");
            Files.createDirectories(file.getParent());
            Files.writeString(file, "record " + i);
        }
    }

    @AfterEach
    void close() throws Exception {
        stores.close();
    }

    private static ChannelSpec channel(String mode, Location uri, S3Source.Distribution distribution, Long seed) {
        return new ChannelSpec("train", mode, null, "None", "None", seed,
                new S3Source(uri, S3Source.DataType.S3Prefix, distribution, List.of()));
    }

    @Test
    void a_fully_replicated_prefix_is_mounted_live_without_listing_it_first() throws Exception {
        FastFilePlan plan = FastFilePlan.of(channel("FastFile", Location.of(data.toString()),
                S3Source.Distribution.FullyReplicated, null), stores, 0, 1);

        assertThat(plan.prefix()).isEqualTo(Location.of(data + "/"));
        assertThat(plan.manifest()).isNull();
        assertThat(plan.totalItems()).isEqualTo(-1);
    }

    @Test
    void sharded_by_s3_key_mounts_exactly_the_share_file_mode_stages_on_each_host() throws Exception {
        Location uri = Location.of(data + "/");
        List<String> all = new ArrayList<>();
        for (int host = 0; host < 2; host++) {
            FastFilePlan mounted = FastFilePlan.of(channel("FastFile", uri, S3Source.Distribution.ShardedByS3Key, 7L),
                    stores, host, 2);
            ChannelPlan staged = ChannelPlan.of(channel("File", uri, S3Source.Distribution.ShardedByS3Key, 7L),
                    stores, host, 2, 4);

            List<String> keys = mounted.manifest().entries().stream().map(Manifest.Entry::key).toList();
            assertThat(keys).isEqualTo(staged.objects().stream().map(SourceObject::key).toList());
            assertThat(mounted.totalItems()).isEqualTo(9);
            assertThat(Location.of(mounted.manifest().base()).resolve(keys.getFirst()))
                    .isEqualTo(uri.resolve(keys.getFirst()));
            all.addAll(keys);
        }
        assertThat(all).hasSize(9).doesNotHaveDuplicates();
    }

    @Test
    void an_s3_uri_naming_one_object_mounts_it_alone_and_sharding_gives_it_to_one_host() throws Exception {
        Location object = Location.of(data.resolve("c0/part-4.rec").toString());

        FastFilePlan first = FastFilePlan.of(channel("FastFile", object, S3Source.Distribution.ShardedByS3Key, null),
                stores, 0, 2);
        FastFilePlan second = FastFilePlan.of(channel("FastFile", object, S3Source.Distribution.ShardedByS3Key, null),
                stores, 1, 2);

        assertThat(first.manifest().entries()).extracting(Manifest.Entry::key).containsExactly("part-4.rec");
        assertThat(first.manifest().entries().getFirst().size()).isEqualTo("record 4".length());
        assertThat(Location.of(first.manifest().base()).resolve("part-4.rec")).isEqualTo(object);
        assertThat(second.manifest().entries()).isEmpty();
    }

    @Test
    void a_prefix_without_a_slash_mounts_the_keys_file_mode_stages_for_it() throws Exception {
        Files.writeString(folder.resolve("train-part1.csv"), "1,a");
        Files.writeString(folder.resolve("train-part2.csv"), "2,b");
        Files.createDirectories(folder.resolve("train_extra"));
        Files.writeString(folder.resolve("train_extra/part3.csv"), "3,c");
        Location uri = Location.of(folder + "/train");
        for (S3Source.Distribution distribution : S3Source.Distribution.values()) {
            FastFilePlan mounted = FastFilePlan.of(channel("FastFile", uri, distribution, null), stores, 0, 1);
            ChannelPlan staged = ChannelPlan.of(channel("File", uri, distribution, null), stores, 0, 1, 4);

            List<String> keys = mounted.manifest().entries().stream().map(Manifest.Entry::key).toList();
            assertThat(keys).as(distribution.name())
                    .containsExactly("train-part1.csv", "train-part2.csv", "train_extra/part3.csv")
                    .isEqualTo(staged.objects().stream().map(SourceObject::key).toList());
            assertThat(Location.of(mounted.manifest().base()).resolve("train-part1.csv"))
                    .isEqualTo(Location.of(folder.resolve("train-part1.csv").toString()));
        }
    }

    @Test
    void an_empty_prefix_is_refused_by_channel_name() throws Exception {
        Files.createDirectories(folder.resolve("empty"));
        for (S3Source.Distribution distribution : S3Source.Distribution.values()) {
            assertThatThrownBy(() -> FastFilePlan.of(channel("FastFile", Location.of(folder.resolve("empty") + "/"),
                    distribution, null), stores, 0, 1))
                    .isInstanceOf(ChannelException.class)
                    .hasMessageStartingWith("channel 'train': no objects under file://" + folder.resolve("empty"))
                    .hasMessageContaining("check S3Uri");
        }
    }
}
