package ferry.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DatasetRefTest {
    @Test
    void parses_name_and_optional_version() {
        assertThat(DatasetRef.parse("cifar")).isEqualTo(new DatasetRef("cifar", 0));
        assertThat(DatasetRef.parse("cifar").isLatest()).isTrue();
        assertThat(DatasetRef.parse("cifar@v3")).isEqualTo(new DatasetRef("cifar", 3));
        assertThat(DatasetRef.parse("cifar@3")).hasToString("cifar@v3");
    }

    @Test
    void refuses_bad_names_and_versions() {
        assertThatThrownBy(() -> DatasetRef.parse("../etc")).hasMessageContaining("not a valid dataset name");
        assertThatThrownBy(() -> DatasetRef.parse("a/b")).hasMessageContaining("'a/b'");
        assertThatThrownBy(() -> DatasetRef.parse("cifar@v0")).hasMessageContaining("start at v1");
        assertThatThrownBy(() -> DatasetRef.parse("cifar@latest")).hasMessageContaining("NAME@vN");
    }
}
