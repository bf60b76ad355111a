package dev.consort.plot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.Rectangle;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;

class LinePlotTest {

    private static final double[] STEPS = {0, 100, 200, 300, 400, 500, 600, 700, 800};
    private static final double[] TRAIN = {4.2, 3.1, 2.6, 2.3, 2.15, 2.05, 2.0, 1.97, 1.95};
    private static final double[] VALIDATION = {4.3, 3.3, 2.9, Double.NaN, 2.7, 2.65, 2.62, 2.6, 2.6};

    private static BufferedImage decode(byte[] png) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(image).as("a decodable PNG").isNotNull();
        return image;
    }

    /** Whether some pixel within {@code radius} of the point is within {@code tolerance} of the colour. */
    private static boolean drawnNear(BufferedImage image, Point2D at, Color colour, int radius, int tolerance) {
        for (int dy = -radius; dy <= radius; dy++) {
            for (int dx = -radius; dx <= radius; dx++) {
                Color pixel = new Color(image.getRGB((int) Math.round(at.getX()) + dx, (int) Math.round(at.getY()) + dy));
                if (Math.abs(pixel.getRed() - colour.getRed()) <= tolerance
                        && Math.abs(pixel.getGreen() - colour.getGreen()) <= tolerance
                        && Math.abs(pixel.getBlue() - colour.getBlue()) <= tolerance) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Error bars run from each point's low to its high bound, in the series' colour, and widen the y axis. */
    @Test
    void errorBarsSpanEachPointsInterval() throws IOException {
        double[] low = new double[STEPS.length];
        double[] high = new double[STEPS.length];
        for (int i = 0; i < STEPS.length; i++) {
            low[i] = TRAIN[i] - 0.4;
            high[i] = TRAIN[i] + 0.4;
        }
        low[3] = Double.NaN;
        LinePlot plot = new LinePlot("Merge loss with intervals", "step", "loss", List.of(
                new LinePlot.Series("merge", STEPS, TRAIN, LinePlot.Mark.POINTS, low, high)));
        BufferedImage image = decode(plot.png());
        for (int i = 0; i < STEPS.length; i++) {
            Point2D top = plot.pixel(STEPS[i], high[i]);
            Point2D middle = plot.pixel(STEPS[i], (TRAIN[i] + high[i]) / 2);
            assertThat(drawnNear(image, middle, LinePlot.colour(0), 1, 40)).as("bar of point %d", i).isEqualTo(i != 3);
            if (i != 3) {
                assertThat(drawnNear(image, top, LinePlot.colour(0), 1, 40)).as("cap of point %d", i).isTrue();
            }
        }
        // The axis covers the bars: the highest cap lies inside the plot area.
        assertThat(plot.plotArea().contains(plot.pixel(STEPS[0], high[0]))).isTrue();
        assertThatThrownBy(() -> new LinePlot.Series("bad", STEPS, TRAIN, LinePlot.Mark.LINE, low, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void lossCurvesAreDrawnWhereTheDataIs() throws IOException {
        LinePlot plot = new LinePlot("Loss of finetune 42", "step", "loss", List.of(
                new LinePlot.Series("train", STEPS, TRAIN, LinePlot.Mark.LINE),
                new LinePlot.Series("validation", STEPS, VALIDATION, LinePlot.Mark.LINE_AND_POINTS)));

        BufferedImage image = decode(plot.png());

        assertThat(image.getWidth()).isEqualTo(plot.width());
        assertThat(image.getHeight()).isEqualTo(plot.height());
        for (int i = 0; i < STEPS.length; i++) {
            assertThat(drawnNear(image, plot.pixel(STEPS[i], TRAIN[i]), LinePlot.colour(0), 1, 30))
                    .as("train at step %s", STEPS[i]).isTrue();
            if (!Double.isNaN(VALIDATION[i])) {
                assertThat(drawnNear(image, plot.pixel(STEPS[i], VALIDATION[i]), LinePlot.colour(1), 0, 0))
                        .as("validation point at step %s", STEPS[i]).isTrue();
            }
        }
        // the validation line breaks at the missing value: nothing of it halfway between steps 200 and 400
        Point2D gap = plot.pixel(300, (VALIDATION[2] + VALIDATION[4]) / 2);
        assertThat(drawnNear(image, gap, LinePlot.colour(1), 2, 60)).isFalse();
        // and the data lie inside the axes
        Rectangle area = plot.plotArea();
        assertThat(area.contains(plot.pixel(0, 4.3))).isTrue();
        assertThat(area.contains(plot.pixel(800, 1.95))).isTrue();
    }

    @Test
    void aScatterOfMergeLossAgainstCkaMarksEveryPointAndTheMarker() throws IOException {
        double[] cka = {0.92, 0.85, 0.71, 0.64, 0.52};
        double[] mergeLoss = {2.9, 2.7, 2.75, 3.0, 3.4};
        LinePlot plot = new LinePlot("Merge loss vs CKA", "CKA (layer 6)", "merge loss",
                List.of(new LinePlot.Series("activation interpolation", cka, mergeLoss, LinePlot.Mark.POINTS)),
                List.of(new LinePlot.Marker(0.85, "critical step")));
        BufferedImage image = decode(plot.png());
        for (int i = 0; i < cka.length; i++) {
            assertThat(drawnNear(image, plot.pixel(cka[i], mergeLoss[i]), LinePlot.colour(0), 0, 0)).isTrue();
        }
        Rectangle area = plot.plotArea();
        Point2D marker = plot.pixel(0.85, 3.2);
        int dark = 0;
        for (int y = area.y; y < area.y + area.height; y++) {
            Color pixel = new Color(image.getRGB((int) Math.floor(marker.getX()), y));
            if (pixel.getRed() < 120 && pixel.getGreen() < 120 && pixel.getBlue() < 120) {
                dark++;
            }
        }
        assertThat(dark).as("dashed marker pixels").isGreaterThan(area.height / 3);
    }

    @Test
    void aMarkerAtTheLastStepKeepsItsLabelInsideThePlotAndClearOfTheLegend() {
        // Falling data leave the top right empty, so the legend goes there, where the label would go too.
        LinePlot plot = new LinePlot("Merge loss along fine-tuning", "step", "loss",
                List.of(new LinePlot.Series("merge", STEPS, TRAIN, LinePlot.Mark.LINE)),
                List.of(new LinePlot.Marker(800, "critical step")));
        Matcher text = Pattern.compile("<text x=\"([0-9.]+)\" y=\"([0-9.]+)\"[^>]*text-anchor=\"(\\w+)\"[^>]*>critical step<")
                .matcher(plot.svg());
        assertThat(text.find()).as("the marker's label").isTrue();
        double width = Canvas.textWidth("critical step", 11, false);
        double anchorX = Double.parseDouble(text.group(1));
        double left = text.group(3).equals("end") ? anchorX - width : anchorX;
        double baseline = Double.parseDouble(text.group(2));
        Rectangle2D label = new Rectangle2D.Double(left, baseline - 11, width, 11);
        Rectangle area = plot.plotArea();
        assertThat(label.getMaxX()).as("label's right end").isLessThanOrEqualTo(area.x + area.width);
        assertThat(label.getMinX()).as("label's left end").isGreaterThanOrEqualTo(area.x);
        assertThat(plot.legendBox().getY()).as("legend at the top").isLessThan(area.y + 20);
        assertThat(label.intersects(plot.legendBox())).as("label %s overlaps legend %s", label, plot.legendBox())
                .isFalse();
    }

    @Test
    void theSvgIsWellFormed() throws Exception {
        String svg = new LinePlot("Loss", "step", "loss",
                List.of(new LinePlot.Series("train <all>", STEPS, TRAIN, LinePlot.Mark.LINE))).svg();
        DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertThat(svg).contains("<polyline").contains("train &lt;all&gt;");
    }

    @Test
    void axesRoundOutToNiceTicks() {
        AxisScale scale = AxisScale.covering(1.95, 4.3, 6);
        assertThat(scale.ticks()).containsExactly(2.0, 2.5, 3.0, 3.5, 4.0);
        assertThat(scale.min()).isLessThan(1.95);
        assertThat(scale.max()).isGreaterThan(4.3);
        assertThat(scale.label(2.0)).isEqualTo("2.0");
        AxisScale tokens = AxisScale.covering(0, 2_400_000, 6);
        assertThat(tokens.ticks()).startsWith(0.0, 500_000.0);
        assertThat(tokens.label(500_000)).isEqualTo("0.5M");
        assertThat(tokens.label(0)).isEqualTo("0");
        AxisScale flat = AxisScale.covering(3, 3, 6);
        assertThat(flat.min()).isLessThan(3);
        assertThat(flat.max()).isGreaterThan(3);
    }
}
