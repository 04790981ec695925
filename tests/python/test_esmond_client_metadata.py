"""esmond-client 4.2.1 (converted with 2to3, logic unchanged) against a running esmond-rs.

Posts metadata with the client's MetadataPost and reads it back with its own ApiConnect and
ApiFilters classes, the way MaDDash checks and OSG collectors do. Needs ESMOND_URL (scheme, host
and port) and ESMOND_KEY (an API key) in the environment; the prefix is the packaged /esmond.
"""

import os
import unittest
import uuid
import warnings

from esmond_client.perfsonar.post import MetadataPost
from esmond_client.perfsonar.query import ApiConnect, ApiFilters

URL = os.environ["ESMOND_URL"]
KEY = os.environ["ESMOND_KEY"]
# A tag unique to this run, so that reruns against the same server stay independent.
RUN = uuid.uuid4().hex[:12]


def post(source="10.10.0.1", destination="10.10.0.2", tool="bwctl/iperf3", **freeform):
    metadata = MetadataPost(
        URL, username="client", api_key=KEY, subject_type="point-to-point",
        source=source, destination=destination, tool_name=tool,
        measurement_agent=source, input_source="src.example.net",
        input_destination="dst.example.net", time_duration=20, ip_transport_protocol="tcp",
    )
    metadata.add_event_type("throughput")
    metadata.add_summary_type("throughput", "average", [86400])
    metadata.add_event_type("failures")
    metadata.add_event_type("packet-retransmits")
    metadata.add_freeform_key_value("run-tag", RUN)
    for key, value in freeform.items():
        metadata.add_freeform_key_value(key, value)
    return metadata.post_metadata()


def query(**settings):
    filters = ApiFilters()
    for name, value in settings.items():
        setattr(filters, name, value)
    return list(ApiConnect(URL, filters).get_metadata())


class MetadataThroughTheClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.first = post(series="a")
        cls.second = post(source="10.10.0.3", destination="10.10.0.4", tool="bwctl/ping", series="b")
        cls.local = post(source="127.0.0.1", destination="10.10.0.9", series="c")

    def test_post_returns_the_record(self):
        record = self.first
        self.assertEqual(len(record.metadata_key), 32)
        self.assertEqual(record.subject_type, "point-to-point")
        self.assertEqual(record.source, "10.10.0.1")
        self.assertEqual(record.time_duration, "20")
        self.assertEqual(sorted(record.event_types), ["failures", "packet-retransmits", "throughput"])
        self.assertEqual(record.uri, "/esmond/perfsonar/archive/%s/" % record.metadata_key)

    def test_same_description_same_key(self):
        self.assertEqual(post(series="a").metadata_key, self.first.metadata_key)

    def test_filters(self):
        cases = [
            ({"source": "10.10.0.1"}, [self.first]),
            ({"destination": "10.10.0.4"}, [self.second]),
            ({"measurement_agent": "10.10.0.3"}, [self.second]),
            ({"tool_name": "bwctl/ping", "source": "10.10.0.3"}, [self.second]),
            ({"source": "localhost"}, [self.local]),
            ({"input_source": "src.example.net", "source": "10.10.0.1"}, [self.first]),
            ({"input_destination": "dst.example.net", "destination": "10.10.0.2"}, [self.first]),
            ({"metadata_key": self.second.metadata_key}, [self.second]),
            ({"event_type": "packet-retransmits", "source": "10.10.0.3"}, [self.second]),
            ({"event_type": "throughput", "summary_type": "average", "summary_window": 86400,
              "source": "10.10.0.1"}, [self.first]),
            ({"event_type": "throughput", "summary_type": "average", "summary_window": 3600}, []),
            ({"subject_type": "network-element"}, []),
            # Nothing has been written yet, so no time-updated can match.
            ({"time_start": 0, "source": "10.10.0.1"}, []),
            ({"time_range": 86400}, []),
        ]
        for settings, expected in cases:
            found = [m.metadata_key for m in query(**settings)]
            self.assertEqual(sorted(found), sorted(m.metadata_key for m in expected), settings)

    def test_event_types_and_summaries(self):
        (record,) = query(metadata_key=self.first.metadata_key)
        throughput = record.get_event_type("throughput")
        self.assertEqual(throughput.base_uri, "/esmond/perfsonar/archive/%s/throughput/base" % record.metadata_key)
        self.assertEqual(throughput.data_type, "unspecified")
        summary = throughput.get_summary("average", 86400)
        self.assertIsNotNone(summary)
        self.assertEqual(summary.summary_window, "86400")
        self.assertEqual(summary.uri, "/esmond/perfsonar/archive/%s/throughput/averages/86400" % record.metadata_key)
        self.assertIsNone(record.get_event_type("histogram-owdelay"))
        # The client's get_freeform_key_value is unusable (a property taking an argument); its
        # debugging dump shows the free-form parameters instead.
        self.assertIn("'run-tag': '%s'" % RUN, record.dump)


class PagingThroughTheClient(unittest.TestCase):
    def test_client_pages_past_the_server_limit(self):
        # More records than one page of 1500: the client must follow metadata-count-total.
        posted = set()
        for index in range(1520):
            posted.add(post(source="10.20.%d.%d" % (index // 250, index % 250 + 1), page="p").metadata_key)
        found = [m.metadata_key for m in query()]
        self.assertEqual(len(found), len(set(found)), "a record came back twice")
        self.assertTrue(posted <= set(found))
        self.assertEqual(found, sorted(found), "esmond sorts by metadata key")


if __name__ == "__main__":
    warnings.simplefilter("error")
    unittest.main(verbosity=2)
