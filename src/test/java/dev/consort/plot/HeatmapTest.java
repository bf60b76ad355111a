package dev.consort.plot;

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

public class HeatmapTest {

    /** A CKA-like matrix: 1 on the diagonal, decaying with the distance between layers, scaled off it. */
    public static double[][] banded(int layers, double offDiagonalScale) {
        double[][] values = new double[layers][layers];
        for (int i = 0; i < layers; i++) {
            for (int j = 0; j < layers; j++) {
                values[i][j] = i == j ? 1.0 : offDiagonalScale * Math.exp(-Math.abs(i - j) / 3.0);
            }
        }
        return values;
    }

    public static BufferedImage decode(byte[] png) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(image).as("a decodable PNG").isNotNull();
        return image;
    }

    public static Color pixel(BufferedImage image, double x, double y) {
        return new Color(image.getRGB((int) x, (int) y));
    }

    @Test
    void textIsDrawnSoTheFontsWork() throws IOException {
        Heatmap heatmap = new Heatmap("A title", List.of(new Heatmap.Panel("only", banded(4, 0.5), "rows", "columns")), "CKA");
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
        double[][] matrix = {{1.0, Double.NaN}, {-0.02, 1.0}};
        Heatmap heatmap = new Heatmap("edge cases", List.of(new Heatmap.Panel("A × A", matrix, "layer", "layer")), "CKA");
        BufferedImage image = decode(heatmap.png());
        Rectangle undefined = heatmap.cellBounds(0, 0, 1);
        Rectangle negative = heatmap.cellBounds(0, 1, 0);
        assertThat(pixel(image, undefined.getCenterX(), undefined.getCenterY())).isEqualTo(Heatmap.UNDEFINED);
        assertThat(pixel(image, negative.getCenterX(), negative.getCenterY())).isEqualTo(ColorMap.VIRIDIS.at(0));
    }

    @Test
    void theSvgIsWellFormedWithOneRectanglePerCell() throws Exception {
        Heatmap heatmap = new Heatmap("A & B <svg>", List.of(
                new Heatmap.Panel("A × A", banded(5, 0.5), "A layer", "A layer"),
                new Heatmap.Panel("A × B", banded(5, 0.2), "A layer", "B layer")), "CKA");
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
