import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * Run once at image build time (java ExtractDjlNatives.java, classpath = the application's libraries):
 * loading the PyTorch engine unpacks its native libraries from the jars into DJL_CACHE_DIR, so a
 * container starts without writing them (or downloading anything: ai.djl.offline=true).
 */
public class ExtractDjlNatives {

    public static void main(String[] args) {
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager manager = engine.newBaseManager()) {
            float sum = manager.create(new float[] {1, 2, 3}).sum().getFloat();
            if (sum != 6f) {
                throw new IllegalStateException("PyTorch computed 1 + 2 + 3 = " + sum);
            }
        }
        System.out.println("DJL " + engine.getEngineName() + " " + engine.getVersion() + " ready");
    }
}
