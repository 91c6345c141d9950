#include "rstx/service/ledger.hpp"

#include <gtest/gtest.h>

#include "support/test_data.hpp"

using namespace rstx::service;

namespace {
ledger open_fresh(std::string const& name) {
  auto dir = rstx::test::scratch_dir(name);
  auto l = ledger::open(dir / "ledger.sqlite");
  EXPECT_TRUE(l) << l.error().message();
  return std::move(*l);
}
}  // namespace

TEST(Ledger, QueuesFilesAndHandsThemOutOldestFirst) {
  auto db = open_fresh("ledger_queue");
  ASSERT_TRUE(db.add_queued({{"/in/a", 10, 1, "20210607.cly"}, {"/in/b", 20, 2, ""}}, 100.0));
  auto rows = db.next_queued(100.0, 10, {});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ((*rows)[0].path, "/in/a");
  EXPECT_EQ((*rows)[0].grid_key, "20210607.cly");
  auto busy = db.next_queued(100.0, 10, {(*rows)[0].id});
  ASSERT_TRUE(busy);
  ASSERT_EQ(busy->size(), 1U);
  EXPECT_EQ((*busy)[0].path, "/in/b");
  auto found = db.find_file("/in/b", 20, 2);
  ASSERT_TRUE(found && *found);
  EXPECT_FALSE(*db.find_file("/in/b", 21, 2));
}

TEST(Ledger, TheSameContentCanBeClaimedOnlyOnce) {
  auto db = open_fresh("ledger_claim");
  ASSERT_TRUE(db.add_queued({{"/in/a", 10, 1, ""}, {"/in/copy-of-a", 10, 5, ""}}, 1.0));
  auto rows = *db.next_queued(1.0, 10, {});
  for (auto& r : rows) {
    r.sha256 = "abc";
    r.algorithm = "fitacf3";
    r.options = "compress=none";
  }
  ASSERT_TRUE(db.mark_running(rows[0].id, 2.0));
  ASSERT_FALSE(*db.claim_content(rows[0]));  // first claimant proceeds
  ASSERT_TRUE(db.mark_running(rows[1].id, 2.0));
  auto other = db.claim_content(rows[1]);
  ASSERT_TRUE(other && *other);
  EXPECT_EQ((*other)->id, rows[0].id);  // the second waits for / duplicates the first
  rows[1].algorithm = "fitacf2";        // other settings make another product
  EXPECT_FALSE(*db.claim_content(rows[1]));
}

TEST(Ledger, RecoverRequeuesInterruptedAndFailedWork) {
  auto db = open_fresh("ledger_recover");
  ASSERT_TRUE(db.add_queued({{"/in/a", 1, 1, ""}, {"/in/b", 1, 1, ""}}, 1.0));
  auto rows = *db.next_queued(1.0, 10, {});
  ASSERT_TRUE(db.mark_running(rows[0].id, 2.0));
  rows[1].attempts = 5;
  ASSERT_TRUE(db.mark_failed(rows[1]));
  EXPECT_EQ(*db.count(input_state::queued), 0);
  EXPECT_EQ(*db.recover(), 2);
  auto again = *db.next_queued(3.0, 10, {});
  ASSERT_EQ(again.size(), 2U);
  EXPECT_EQ(again[1].attempts, 0);
}

TEST(Ledger, AGridIsRequestedByEachDoneFileAndRebuiltWhenRequestedAgain) {
  auto db = open_fresh("ledger_grids");
  ASSERT_TRUE(db.add_queued({{"/in/a", 1, 1, "20210607.cly"}, {"/in/b", 1, 1, "20210607.cly"}}, 1.0));
  auto rows = *db.next_queued(1.0, 10, {});
  rows[0].output = "/out/a.fitacf";
  ASSERT_TRUE(db.mark_done(rows[0], 5.0));
  EXPECT_TRUE(*db.grid_inputs_pending("20210607.cly"));  // b is still queued
  EXPECT_TRUE(db.due_grids(4.0, false)->empty());       // debounced until 5.0
  auto due = *db.due_grids(5.0, false);
  ASSERT_EQ(due.size(), 1U);
  ASSERT_TRUE(db.mark_grid_running("20210607.cly"));
  rows[1].output = "/out/b.fitacf";
  ASSERT_TRUE(db.mark_done(rows[1], 6.0));  // arrives while the grid is being built
  due[0].built = due[0].requested;
  ASSERT_TRUE(db.mark_grid_done(due[0]));
  auto grids = *db.list_grids();
  ASSERT_EQ(grids.size(), 1U);
  EXPECT_EQ(rstx::service::to_string(grids[0].state), std::string("pending"));  // built from 1 of 2 requests: again
  EXPECT_EQ(*db.grid_inputs("20210607.cly"), (std::vector<std::string>{"/out/a.fitacf", "/out/b.fitacf"}));
}
