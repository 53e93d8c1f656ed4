import Training
import XCTest

final class PresetsTests: XCTestCase {
    func testAPresetsFlagsGoBeforeTheOnesGivenSoThoseOverride() throws {
        let preset = try XCTUnwrap(Presets.named("fashion-fast"))
        let given = ["dptrain", "train", "--epochs", "3", "--preset", "fashion-fast", "--dataset", "fashion-mnist"]
        XCTAssertEqual(try Presets.expand(given),
                       ["dptrain", "train"] + preset.flags + ["--epochs", "3", "--dataset", "fashion-mnist"])
        XCTAssertEqual(try Presets.expand(["dptrain", "simulate", "--preset=fashion-fast"]), ["dptrain", "simulate"] + preset.flags)
        XCTAssertEqual(try Presets.expand(["dptrain", "train", "--epochs", "3"]), ["dptrain", "train", "--epochs", "3"])
    }

    func testUnknownOrMissingNamesAreRefusedNamingTheFlag() {
        for arguments in [["dptrain", "train", "--preset", "fastest"], ["dptrain", "train", "--preset"]] {
            XCTAssertThrowsError(try Presets.expand(arguments)) { error in
                XCTAssertTrue("\(error)".hasPrefix("--preset: "), "\(error)")
                XCTAssertTrue("\(error)".contains("fashion-fast"), "the known names are listed: \(error)")
            }
        }
    }

    func testEveryPresetNamesEpochsLayersAndAnOptimiser() {
        XCTAssertEqual(Set(Presets.all.map(\.name)).count, Presets.all.count)
        for preset in Presets.all {
            for flag in ["--layers", "--epochs", "--optimizer", "--lr"] {
                XCTAssertTrue(preset.flags.contains(flag), "\(preset.name) lacks \(flag)")
            }
        }
    }
}
