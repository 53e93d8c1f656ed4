import XCTest
import Training

/// --log-format json: every record one line that JSONSerialization parses.
final class LogRecordTests: XCTestCase {
    func testALineBecomesOneJSONObject() throws {
        let line = LogRecord.line("coordinator: worker 1 (\"a\"\\b\nc\u{1}) joined; 1 live", level: "info",
                                  time: Date(timeIntervalSince1970: 1_796_299_200.25))
        XCTAssertFalse(line.contains("\n"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        XCTAssertEqual(object["source"], "coordinator")
        XCTAssertEqual(object["level"], "info")
        XCTAssertEqual(object["message"], "worker 1 (\"a\"\\b\nc\u{1}) joined; 1 live")
        XCTAssertEqual(object["time"], "2026-12-03T12:00:00.250Z")
    }

    func testALineWithoutAOneWordSourceIsDptrains() throws {
        let line = LogRecord.line("no source here: really", level: "warning")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        XCTAssertEqual(object["source"], "dptrain")
        XCTAssertEqual(object["message"], "no source here: really")
    }
}
