package dev.consort.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

class CkaHeatmapTest {

    /** A CKA-like matrix: 1 on the diagonal, decaying with the distance between layers, scaled off it. */
    private static CkaMatrix banded(int layers, double offDiagonalScale) {
        double[][] values = new double[layers][layers];
        for (int i = 0; i < layers; i++) {
            for (int j = 0; j < layers; j++) {
                values[i][j] = i == j ? 1.0 : offDiagonalScale * Math.exp(-Math.abs(i - j) / 3.0);
            }
        }
        return new CkaMatrix(values);
    }

    private static BufferedImage decode(byte[] png) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(image).as("a decodable PNG").isNotNull();
        return image;
    }

    private static Color pixel(BufferedImage image, double x, double y) {
        return new Color(image.getRGB((int) x, (int) y));
    }

    @Test
    void thePngHasOnePanelPerMatrixColouredByTheMatrixEntries() throws IOException {
        List<CkaMatrix> matrices = List.of(banded(12, 0.9), banded(12, 0.6), banded(12, 0.3));
        CkaHeatmap heatmap = CkaHeatmap.forModelPair("math-specialist", "code-specialist", "gsm-hard",
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
                    .isEqualTo(CkaHeatmap.BACKGROUND);
        }
        // layer 0 at the bottom: the cell of row 0 lies below that of row 11
        assertThat(heatmap.cellBounds(0, 0, 0).y).isGreaterThan(heatmap.cellBounds(0, 11, 0).y);
    }

    @Test
    void textIsDrawnSoTheFontsWork() throws IOException {
        CkaHeatmap heatmap = new CkaHeatmap("A title", List.of(new CkaHeatmap.Panel("only", banded(4, 0.5), "rows", "columns")));
        BufferedImage image = decode(heatmap.png());
        Rectangle topCell = heatmap.cellBounds(0, 3, 0);
        int dark = 0;
        for (int y = 0; y < topCell.y - 20; y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                Color colour = pixel(image, x, y);
                if (colour.getRed() + colour.getGreen() + colour.getBlue() < 300) {
                    dark++;
                }
            }
        }
        assertThat(dark).as("dark title pixels").isGreaterThan(30);
    }

    @Test
    void undefinedEntriesAreGreyAndValuesOutsideTheScaleAreClamped() throws IOException {
        CkaMatrix matrix = new CkaMatrix(new double[][] {{1.0, Double.NaN}, {-0.02, 1.0}});
        CkaHeatmap heatmap = new CkaHeatmap("edge cases", List.of(new CkaHeatmap.Panel("A × A", matrix, "layer", "layer")));
        BufferedImage image = decode(heatmap.png());
        Rectangle undefined = heatmap.cellBounds(0, 0, 1);
        Rectangle negative = heatmap.cellBounds(0, 1, 0);
        assertThat(pixel(image, undefined.getCenterX(), undefined.getCenterY())).isEqualTo(CkaHeatmap.UNDEFINED);
        assertThat(pixel(image, negative.getCenterX(), negative.getCenterY())).isEqualTo(ColorMap.VIRIDIS.at(0));
    }

    @Test
    void theSvgIsWellFormedWithOneRectanglePerCell() throws Exception {
        CkaHeatmap heatmap = new CkaHeatmap("A & B <svg>", List.of(
                new CkaHeatmap.Panel("A × A", banded(5, 0.5), "A layer", "A layer"),
                new CkaHeatmap.Panel("A × B", banded(5, 0.2), "A layer", "B layer")));
        String svg = heatmap.svg();
        Document document = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertThat(document.getDocumentElement().getTagName()).isEqualTo("svg");
        String diagonal = String.format("#%06x", ColorMap.VIRIDIS.at(1.0).getRGB() & 0xffffff);
        assertThat(svg.split("fill=\"" + diagonal + "\"", -1)).hasSizeGreaterThanOrEqualTo(1 + 2 * 5);
        assertThat(svg).contains("A &amp; B &lt;svg&gt;");
    }

    @Test
    void viridisRunsFromDarkPurpleThroughTealToYellow() {
        assertCloseTo(ColorMap.VIRIDIS.at(0.0), new Color(0x440154));
        assertCloseTo(ColorMap.VIRIDIS.at(0.5), new Color(0x21918c));
        assertCloseTo(ColorMap.VIRIDIS.at(1.0), new Color(0xfde725));
        assertThat(ColorMap.VIRIDIS.at(7)).isEqualTo(ColorMap.VIRIDIS.at(1));
    }

    private static void assertCloseTo(Color actual, Color expected) {
        assertThat(Math.abs(actual.getRed() - expected.getRed())).isLessThanOrEqualTo(5);
        assertThat(Math.abs(actual.getGreen() - expected.getGreen())).isLessThanOrEqualTo(5);
        assertThat(Math.abs(actual.getBlue() - expected.getBlue())).isLessThanOrEqualTo(5);
    }
}
