package dev.consort.cka;

import static dev.consort.plot.HeatmapTest.decode;
import static dev.consort.plot.HeatmapTest.pixel;
import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.consort.plot.ColorMap;
import dev.consort.plot.Figure;
import dev.consort.plot.Heatmap;
import dev.consort.plot.HeatmapTest;

class CkaHeatmapsTest {

    private static CkaMatrix banded(int layers, double offDiagonalScale) {
        return new CkaMatrix(HeatmapTest.banded(layers, offDiagonalScale));
    }

    @Test
    void thePngHasOnePanelPerMatrixColouredByTheMatrixEntries() throws IOException {
        List<CkaMatrix> matrices = List.of(banded(12, 0.9), banded(12, 0.6), banded(12, 0.3));
        Heatmap heatmap = CkaHeatmaps.forModelPair("math-specialist", "code-specialist", "gsm-hard",
                CkaEstimator.LINEAR, matrices.get(0), matrices.get(1), matrices.get(2));

        BufferedImage image = decode(heatmap.png());

        assertThat(image.getWidth()).isEqualTo(heatmap.width());
        assertThat(image.getHeight()).isEqualTo(heatmap.height());
        for (int panel = 0; panel < matrices.size(); panel++) {
            CkaMatrix matrix = matrices.get(panel);
            for (int row = 0; row < 12; row++) {
                for (int column = 0; column < 12; column++) {
                    Rectangle cell = heatmap.cellBounds(panel, row, column);
                    assertThat(pixel(image, cell.getCenterX(), cell.getCenterY()))
                            .as("panel %d cell (%d, %d)", panel, row, column)
                            .isEqualTo(ColorMap.VIRIDIS.at(matrix.get(row, column)));
                }
            }
        }
        // panels are separate: the space between two panels is background
        for (int panel = 0; panel + 1 < matrices.size(); panel++) {
            Rectangle lastOfThis = heatmap.cellBounds(panel, 6, 11);
            Rectangle firstOfNext = heatmap.cellBounds(panel + 1, 6, 0);
            assertThat(firstOfNext.x).isGreaterThan(lastOfThis.x + lastOfThis.width + 10);
            assertThat(pixel(image, lastOfThis.x + lastOfThis.width + 5, lastOfThis.getCenterY()))
                    .isEqualTo(Figure.BACKGROUND);
        }
        // layer 0 at the bottom: the cell of row 0 lies below that of row 11
        assertThat(heatmap.cellBounds(0, 0, 0).y).isGreaterThan(heatmap.cellBounds(0, 11, 0).y);
    }

}
