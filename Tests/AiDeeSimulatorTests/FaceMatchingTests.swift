// aidee-sim face matching (YuNet + dlib): same person matches, similarity mapping, stored descriptors.
import AiDeeSimulator
import Foundation
import Testing

@Suite("Face matching (YuNet + dlib)", .enabled(if: assetsAvailable, "needs the models and face set: run scripts/fetch-assets.sh"))
struct FaceMatchingTests {
    @Test("faces of one person match each other, different people do not")
    func samePersonMatchesOthersDoNot() async throws {
        try await Sim.with { sim in
            var descriptors: [(String, FaceDescriptor)] = []
            for image in Faces.obama + Faces.others {
                descriptors.append((image, try await sim.server.descriptor(ofImage: try Faces.bytes(image))))
            }
            let threshold = MatchOption.threshold(for: MatchOption.defaultOption) ?? 80
            var lowestSame = 100.0
            var highestDifferent = 0.0
            for i in descriptors.indices {
                for j in descriptors.indices where j > i {
                    let (a, da) = descriptors[i]
                    let (b, db) = descriptors[j]
                    let similarity = FaceSimilarity.percentage(forDistance: da.distance(to: db))
                    let aIsObama = Faces.obama.contains(a)
                    let bIsObama = Faces.obama.contains(b)
                    if aIsObama && bIsObama {
                        lowestSame = min(lowestSame, similarity)
                        #expect(similarity >= threshold, "\(a) vs \(b): \(similarity) %")
                    } else {
                        highestDifferent = max(highestDifferent, similarity)
                        #expect(similarity < threshold, "\(a) vs \(b): \(similarity) %")
                    }
                }
            }
            print(
                "face matching: lowest same-person similarity \(lowestSame) %, highest different-person \(highestDifferent) %, threshold \(threshold) %"
            )
        }
    }

    @Test("the similarity mapping puts dlib's 0.6 at the default threshold and is invertible")
    func similarityMapping() {
        #expect(FaceSimilarity.percentage(forDistance: 0) == 100)
        #expect(FaceSimilarity.percentage(forDistance: 0.6) == 80)
        #expect(FaceSimilarity.percentage(forDistance: 3.5) == 0)
        #expect(abs(FaceSimilarity.distance(forPercentage: 80) - 0.6) < 1e-9)
        #expect(MatchOption.threshold(for: 1) == 70)
        #expect(MatchOption.threshold(for: 5) == 90)
        #expect(MatchOption.threshold(for: 0) == nil)
        #expect(MatchOption.threshold(for: 6) == nil)
    }

    @Test("descriptors survive their stored form")
    func descriptorBytesRoundTrip() throws {
        let values = (0..<128).map { Float($0) * 0.01 - 0.5 }
        let d = try #require(FaceDescriptor(values: values))
        #expect(FaceDescriptor(bytes: d.bytes) == d)
        #expect(FaceDescriptor(bytes: [1, 2, 3]) == nil)
        #expect(FaceDescriptor(values: [1]) == nil)
    }
}
